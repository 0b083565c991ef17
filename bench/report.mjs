// The one table of bench/run.sh: every scenario with req/s, p50, p99, errors, server CPU per
// request, RSS, its ratio to the machine's ceiling and to the peer, and the target of
// issue 8 it is held to. Reads what run.sh left in its output folder:
//   facts.tsv      ceilings, start-up time, RSS (fact, value)
//   compare.tsv    wristband and the peer in alternating rounds: the shared harness's rows,
//                  then userinfo
//   scenarios.tsv  this project's scenarios, in the same format
// Usage: node bench/report.mjs target/bench/<run>
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: report.mjs <run folder>\n');
  process.exit(2);
}

const readTsv = (file) => {
  if (!existsSync(file)) return [];
  const [head, ...lines] = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
  const cols = head.split('\t');
  return lines.map((line) => {
    const cells = line.split('\t');
    return Object.fromEntries(cols.map((c, i) => {
      const value = cells[i] ?? '';
      return [c, value !== '' && !Number.isNaN(Number(value)) ? Number(value) : value];
    }));
  });
};

const facts = Object.fromEntries(readTsv(join(dir, 'facts.tsv')).map((r) => [r.fact, r.value]));
const compared = readTsv(join(dir, 'compare.tsv'));
const scenarios = readTsv(join(dir, 'scenarios.tsv'));

const median = (xs) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
};

// One summary per scenario: medians over rounds, errors summed; for compared endpoints the
// median of the per-round ratios wristband / peer.
function summarize(rows) {
  return {
    rps: median(rows.map((r) => r.rps)),
    p50: median(rows.map((r) => r.p50_ms)),
    p99: median(rows.map((r) => r.p99_ms)),
    errors: rows.reduce((n, r) => n + r.non2xx + r.sockerr, 0),
    cpuUs: median(rows.map((r) => (r.server_cpu_s * 1e6) / r.requests)),
    rss: Math.max(...rows.map((r) => r.rss_mib).filter(Number.isFinite)),
    firstBad: rows.find((r) => r.first_bad)?.first_bad,
  };
}
const results = new Map();
for (const endpoint of new Set(compared.map((r) => r.endpoint))) {
  const ours = compared.filter((r) => r.target === 'wristband' && r.endpoint === endpoint);
  const peer = compared.filter((r) => r.target === 'peer' && r.endpoint === endpoint);
  const ratios = ours.map((r) => r.rps / peer.find((p) => p.round === r.round)?.rps);
  results.set(endpoint, { ...summarize(ours), peerRps: median(peer.map((r) => r.rps)), vsPeer: median(ratios) });
}
for (const name of new Set(scenarios.map((r) => r.endpoint))) {
  results.set(name, summarize(scenarios.filter((r) => r.endpoint === name)));
}

const sign = Number(facts.rsa_sign_per_s);
const argon2 = Number(facts.argon2_per_s);
// The RSA ceiling is measured on every core: one signature costs this much CPU.
const vcpus = availableParallelism();
const signCpuUs = (vcpus * 1e6) / sign;
// [scenario, label, ceiling (requests/s) or null, target description, check(result) -> bool]
const plan = [
  ['discovery', 'discovery', null, '>= 5x peer', (r) => r.vsPeer >= 5],
  ['jwks', 'JWKS', null, '>= 5x peer', (r) => r.vsPeer >= 5],
  ['jwks_304', 'JWKS, If-None-Match (304)', null, '', null],
  ['token', 'client_credentials', sign, '>= 0.85 ceiling, CPU <= 1.15 signature, >= 1.5x peer',
    (r) => r.rps / sign >= 0.85 && r.cpuUs <= 1.15 * signCpuUs && r.vsPeer >= 1.5],
  ['introspect', 'introspection (JWT)', null, '>= 3x peer', (r) => r.vsPeer >= 3],
  ['userinfo', 'userinfo', null, '>= 3x peer', (r) => r.vsPeer >= 3],
  ['code_exchange', 'authorization_code exchange', sign / 2, '>= 0.75 ceiling', (r) => r.rps / (sign / 2) >= 0.75],
  ['refresh', 'refresh_token rotation', sign / 2, '>= 0.75 ceiling', (r) => r.rps / (sign / 2) >= 0.75],
  ['login', 'browser login (3 requests)', argon2, '>= 0.90 ceiling', (r) => r.rps / argon2 >= 0.9],
  ['jwks_during_logins', 'JWKS while logging in', null, 'p99 < 5 ms', (r) => r.p99 < 5],
  ['token_during_logins', 'client_credentials while logging in', null, 'p99 < 50 ms', (r) => r.p99 < 50],
  ['client_credentials', 'client_credentials, small database', sign, '', null],
  ['client_credentials_resource', 'client_credentials for an API (resource)', sign, '>= 0.95 of without',
    (r) => r.rps / results.get('client_credentials')?.rps >= 0.95],
  ['client_credentials_large', 'client_credentials, 1M users+families', sign, '>= 0.90 of small',
    (r) => r.rps / results.get('client_credentials')?.rps >= 0.9],
  ['refresh_large', 'refresh_token, 1M users+families', sign / 2, '>= 0.90 of small',
    (r) => r.rps / results.get('refresh')?.rps >= 0.9],
];
// Issue 24: each hot path on a server without this round's features, then with all of them
// configured (a token for an API, SMTP, an upstream provider, a passkey allow-list).
for (const [name, label, ceiling] of [['token', 'client_credentials', sign], ['introspect', 'introspection', null],
  ['userinfo', 'userinfo', null], ['jwks', 'JWKS', null]]) {
  plan.push([`${name}_without`, `${label}, no feature configured`, ceiling, '', null]);
  plan.push([`${name}_with`, `${label}, every feature configured`, ceiling, '>= 0.95 of without',
    (r) => r.rps / results.get(`${name}_without`)?.rps >= 0.95]);
}

const fmt = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
const cells = [['scenario', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'cpu us/req', 'RSS MiB', 'vs ceiling',
  'vs peer', 'target', 'met']];
for (const [name, label, ceiling, target, check] of plan) {
  const r = results.get(name);
  if (!r) continue;
  const peer = Number.isFinite(r.vsPeer) ? `${fmt(r.vsPeer, 2)}x` : 'not run';
  const met = check === null ? '' : (r.errors > 0 ? 'INVALID' : (check(r) ? 'yes' : 'NO'));
  cells.push([label, fmt(r.rps), fmt(r.p50, 2), fmt(r.p99, 2), String(r.errors), fmt(r.cpuUs, 0), fmt(r.rss),
    ceiling ? fmt(r.rps / ceiling, 2) : '', r.peerRps === undefined ? '' : peer, target, met]);
}
const factRows = [
  ['start-up to ready', `${facts.startup_ms} ms`, '<= 100 ms', Number(facts.startup_ms) <= 100],
  ['RSS idle', `${facts.idle_rss_mib} MiB`, '<= 24 MiB', Number(facts.idle_rss_mib) <= 24],
  ['RSS peak (VmHWM)', `${facts.peak_rss_mib} MiB`, '<= 64 MiB', Number(facts.peak_rss_mib) <= 64],
];

const widths = cells[0].map((_, i) => Math.max(...cells.map((row) => row[i].length)));
const line = (row) => `| ${row.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(`\nwristband on ${facts.backend}; ceilings: RSA-2048 ${fmt(sign)} sign/s on all ${vcpus} cores `
  + `(${fmt(signCpuUs, 0)} us of CPU each; two per token with an ID token: ${fmt(sign / 2)}/s), `
  + `argon2id ${fmt(argon2)} verifications/s`);
console.log(line(cells[0]));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of cells.slice(1)) console.log(line(row));
console.log('');
for (const [what, value, target, ok] of factRows) console.log(`${what}: ${value} (target ${target}: ${ok ? 'yes' : 'NO'})`);
for (const [name, r] of results) {
  if (r.errors > 0) console.log(`${name}: ${r.errors} unexpected answers, first: ${r.firstBad}`);
}

// Keycloak's sizing guide counts CPU as requests per second per vCPU: 120 client-credentials
// grants, 120 refresh-token requests and 15 password logins (its tests open a new TLS
// connection per client-credentials request; these runs keep connections open, over HTTP).
const perVcpu = (name) => results.get(name)?.rps / vcpus;
console.log(`\nKeycloak's sizing units, per vCPU (${vcpus} here; Keycloak's guide in brackets):`);
console.log(`  client-credentials grants/s: ${fmt(perVcpu('token'))} [120]`);
console.log(`  refresh-token requests/s: ${fmt(perVcpu('refresh'))} [120]`);
console.log(`  password-based logins/s: ${fmt(perVcpu('login'))} [15]`);
