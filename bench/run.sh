#!/usr/bin/env bash
# wristband against the machine's limits and against node-oidc-provider, in one run, ending
# in one table (bench/report.mjs): req/s, p50, p99, errors, RSS, ratio to the ceiling, ratio
# to the peer, and whether each target of issue 8 is met.
#
#   bench/run.sh               on a fresh SQLite database
#   bench/run.sh --postgres    on a throwaway PostgreSQL cluster (scripts/with-postgres.sh)
#
# Steps: release build; start-up time (exec to /readyz 200 on an existing database) and idle
# RSS; the ceilings (RSA-2048 sign/s from ../shared/bench/rsa-limit.sh, argon2id
# verifications/s from `cargo bench --bench login_ceiling`); the shared harness
# (../shared/bench/compare.sh: discovery, JWKS, client_credentials, introspection, alternating
# with the peer); userinfo, alternating with the peer; then this project's scenarios with
# bench/scenario.lua: JWKS revalidation, authorization-code exchange, refresh rotation,
# whole browser logins, JWKS and token latency while logins saturate the hashing pool, and
# client_credentials (also for an API, with `resource`) and refresh
# again with a million users and a million refresh families in the database. Every scenario
# is checked once before it is timed, and every unexpected answer is counted.
#
# Knobs: DURATION (10 s per run) WARMUP (2 s) CONNECTIONS (16) ROUNDS (3, peer comparison)
# NICE (e.g. -10, as root) ROWS (1000000; 0 skips the large-database runs) PORT (8480)
# WRISTBAND_BENCH_HARNESS (../shared/bench). Needs node, and wrk, curl, ss, openssl and
# sqlite3, which it installs from Debian's packages when they are missing (as root).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

if [[ "${1:-}" == "--postgres" ]]; then
  exec scripts/with-postgres.sh "$0" --on-postgres
fi
backend=SQLite
[[ "${1:-}" == "--on-postgres" ]] && backend=PostgreSQL

# The tools below that a machine lacks come from Debian's packages (as root).
declare -A package_of=([wrk]=wrk [curl]=curl [ss]=iproute2 [openssl]=openssl [sqlite3]=sqlite3)
missing=()
for tool in "${!package_of[@]}"; do command -v "$tool" >/dev/null || missing+=("${package_of[$tool]}"); done
if (( ${#missing[@]} > 0 )) && [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
  echo "==> installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-upgrade "${missing[@]}"
fi
for tool in wrk node curl ss openssl sqlite3; do
  command -v "$tool" >/dev/null || { echo "bench/run.sh needs $tool (Debian: apt-get install -y ${package_of[$tool]:-nodejs})" >&2; exit 1; }
done
harness="${WRISTBAND_BENCH_HARNESS:-../shared/bench}"
[[ -x "$harness/compare.sh" ]] || { echo "no benchmark harness at $harness: set WRISTBAND_BENCH_HARNESS" >&2; exit 1; }
harness="$(cd "$harness" && pwd)"
port="${PORT:-8480}"
issuer="http://127.0.0.1:$port"
DURATION="${DURATION:-10}" WARMUP="${WARMUP:-2}" CONNECTIONS="${CONNECTIONS:-16}" ROWS="${ROWS:-1000000}"
export ROUNDS="${ROUNDS:-3}"
export DURATION WARMUP CONNECTIONS
scenario_lua="$root/bench/scenario.lua"

echo "==> cargo build --release"
cargo build --release --quiet
work="$(mktemp -d)"
server="" peer_pid=""
cleanup() {
  for pid in "$server" "$peer_pid"; do [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
out="$root/target/bench/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
rows="$out/scenarios.tsv"
facts="$out/facts.tsv"
printf 'fact\tvalue\n' > "$facts"
fact() { printf '%s\t%s\n' "$1" "$2" >> "$facts"; }
fact backend "$backend"

# A fresh deployment. The limits that protect a real one would throttle the load itself,
# and codes live long enough to be minted before the exchange runs.
export WRISTBAND_BIND="127.0.0.1:$port" WRISTBAND_ISSUER="$issuer"
if [[ $backend == PostgreSQL ]]; then
  export WRISTBAND_DATABASE_URL="$WRISTBAND_TEST_DATABASE_URL"
else
  export WRISTBAND_DATABASE_URL="sqlite://$work/wristband.db?mode=rwc"
fi
export WRISTBAND_MASTER_KEY_FILE="$work/master.key"
export WRISTBAND_RATE_LIMITS_TOKEN_PER_IP=off WRISTBAND_RATE_LIMITS_TOKEN_PER_CLIENT=off
export WRISTBAND_RATE_LIMITS_INTROSPECT_PER_CLIENT=off WRISTBAND_RATE_LIMITS_LOGIN_FAILURES_PER_IP=off
# Every benchmarked login starts a pending request from 127.0.0.1.
export WRISTBAND_RATE_LIMITS_AUTHORIZE_PER_IP=off
export WRISTBAND_TOKENS_AUTHORIZATION_CODE_SECONDS=600
wristband=target/release/wristband
secret_of() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).client_secret))'; }
access_token_of() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).access_token))'; }
basic() { printf 'Basic %s' "$(printf '%s:%s' "$1" "$2" | base64 -w0)"; }

# A session of its own, so the harness's NICE can raise the server's priority alone.
start_server() {
  setsid "$wristband" serve > "$work/serve.log" 2>&1 &
  server=$!
}
wait_until_ready() {
  for _ in $(seq 1 2000); do
    curl -fsS -o /dev/null "$issuer/readyz" 2>/dev/null && return 0
    sleep 0.005
  done
  cat "$work/serve.log" >&2; exit 1
}
# The first start creates the database, the keys and the first administrator; the
# second is the one measured.
start_server; wait_until_ready; kill "$server"; wait "$server" 2>/dev/null || true
started="$(date +%s%N)"
start_server; wait_until_ready
fact startup_ms "$(( ($(date +%s%N) - started) / 1000000 ))"
sleep 1
fact idle_rss_mib "$(awk '/^VmRSS/{printf "%.1f", $2 / 1024}' "/proc/$server/status")"

echo "==> clients, a user and a signed-in browser"
api="https://orders.example.com"
"$wristband" api add "$api" --scope orders:read --scope orders:write > /dev/null
service_secret="$("$wristband" client add bench --grant client_credentials --resource "$api" --json | secret_of)"
redirect_uri="http://127.0.0.1:9/cb"
web_secret="$("$wristband" client add web --redirect-uri "$redirect_uri" --first-party --json | secret_of)"
username=alice password="correct horse battery staple"
printf '%s' "$password" | "$wristband" user add "$username" --password-stdin --email alice@example.com > /dev/null
code_verifier="$(openssl rand -hex 32)"
code_challenge="$(printf '%s' "$code_verifier" | openssl dgst -sha256 -binary | base64 -w0 | tr '+/' '-_' | tr -d '=')"
authorize_url="$issuer/authorize?response_type=code&client_id=web&redirect_uri=$redirect_uri&scope=openid%20profile%20email&state=bench&code_challenge=$code_challenge&code_challenge_method=S256"
export WRK_AUTH WRK_REDIRECT_URI="$redirect_uri" WRK_CODE_VERIFIER="$code_verifier"
export WRK_USERNAME="$username" WRK_PASSWORD="$password"

# wrk_run <seconds> <connections> <url> [threads]: one wrk run of bench/scenario.lua with the
# WRK_* variables set by the caller; prints its RESULT line. With NICE, in a session of
# its own at that priority, as the shared harness does.
wrk_run() {
  local cmd=(wrk -t "${4:-1}" -c "$2" -d "${1}s" --timeout 10s -s "$scenario_lua" "$3")
  if [[ -z "${NICE:-}" ]]; then
    WRK_THREADS="${4:-1}" "${cmd[@]}" | grep '^RESULT' || true
  else
    WRK_THREADS="${4:-1}" setsid -w sh -c 'echo "$0" > /proc/self/autogroup 2>/dev/null; exec nice -n "$0" "$@"' \
      "$NICE" "${cmd[@]}" | grep '^RESULT' || true
  fi
}
# The server's own threads keep their order: the argon2 threads stay 10 below the rest.
prioritize() {
  [[ -n "${NICE:-}" ]] || return 0
  local task
  for task in /proc/"$server"/task/*; do
    if [[ "$(cat "$task/comm")" == wristband-argon* ]]; then
      renice -n $((NICE + 10)) -p "${task##*/}" > /dev/null
    else
      renice -n "$NICE" -p "${task##*/}" > /dev/null
    fi
  done
  echo "$NICE" > "/proc/$server/autogroup" 2>/dev/null || true
}
server_ticks() { sed 's/.*) //' "/proc/$server/stat" | awk '{print $12 + $13}'; }
hz="$(getconf CLK_TCK)"
printf 'target\tround\tendpoint\trequests\tseconds\trps\tp50_ms\tp99_ms\tnon2xx\tsockerr\tserver_cpu_s\twrk_cpu_s\tbusy_cpu_s\trss_mib\tconnections\tnote\tfirst_bad\n' > "$rows"

# measure <scenario-name> <connections> <url> <warm-up input> <run input> [threads]: a warm-up
# run, then the timed run of $server; appends one row in the shared harness's format to
# MEASURE_ROWS (default: this project's scenarios) as MEASURE_TARGET, round MEASURE_ROUND.
measure() {
  local name="$1" connections="$2" url="$3" threads="${6:-1}"
  prioritize
  WRK_IN="$4" wrk_run "$WARMUP" "$connections" "$url" "$threads" > /dev/null
  local t0; t0="$(server_ticks)"
  local result; result="$(WRK_IN="$5" wrk_run "$DURATION" "$connections" "$url" "$threads")"
  local t1; t1="$(server_ticks)"
  [[ -n "$result" ]] || { echo "  $name: wrk produced no result" >&2; exit 1; }
  IFS=$'\t' read -r _ requests seconds rps p50 p99 non2xx sockerr first_bad <<< "$result"
  local rss; rss="$(awk '/^VmRSS/{printf "%.1f", $2 / 1024}' "/proc/$server/status")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\t\t%s\t%s\t\t%s\n' "${MEASURE_TARGET:-wristband}" \
    "${MEASURE_ROUND:-1}" "$name" "$requests" "$seconds" "$rps" "$p50" "$p99" "$non2xx" "$sockerr" \
    "$(awk -v a="$t0" -v b="$t1" -v hz="$hz" 'BEGIN{printf "%.3f", (b - a) / hz}')" \
    "$rss" "$connections" "$first_bad" >> "${MEASURE_ROWS:-$rows}"
  printf '  %-22s %-9s %9.1f req/s  p50 %7.2f ms  p99 %7.2f ms  errors %s\n' "$name" "${MEASURE_TARGET:-wristband}" \
    "$rps" "$p50" "$p99" "$((non2xx + sockerr))"
}

# check <what> <expected status> <curl args...>: one request answered as expected, or stop.
check() {
  local what="$1" expected="$2"; shift 2
  local status; status="$(curl -s -o "$work/check.body" -w '%{http_code}' "$@")"
  if [[ "$status" != "$expected" ]]; then
    echo "  $what: expected $expected, got $status: $(head -c 300 "$work/check.body")" >&2; exit 1
  fi
  echo "  checked $what: $status"
}

# One browser login by hand (the login scenario repeats it): the login page, then the form.
login_page="$(curl -s -D "$work/page.headers" "$authorize_url")"
csrf_cookie="$(grep -io '__Host-wristband_csrf=[^;]*' "$work/page.headers")"
field() { printf '%s' "$login_page" | grep -o "name=\"$1\" value=\"[^\"]*\"" | cut -d'"' -f4; }
curl -s -D "$work/login.headers" -o /dev/null -H "Cookie: $csrf_cookie" -H 'Sec-Fetch-Site: same-origin' \
  --data-urlencode "csrf_token=$(field csrf_token)" --data-urlencode "request_id=$(field request_id)" \
  --data-urlencode "username=$username" --data-urlencode "password=$password" "$issuer/login"
session_cookie="$(grep -io '__Host-wristband_session=[^;]*' "$work/login.headers")" \
  || { echo "the scripted login failed" >&2; exit 1; }
code_of() { grep -io '^location: .*' "$1" | grep -o '[?&]code=[^&]*' | cut -d= -f2 | tr -d '\r'; }
curl -s -D "$work/authorize.headers" -o /dev/null -H "Cookie: $session_cookie" "$authorize_url"
tokens="$(curl -s -u "web:$web_secret" -d grant_type=authorization_code -d "code=$(code_of "$work/authorize.headers")" \
  --data-urlencode "redirect_uri=$redirect_uri" -d "code_verifier=$code_verifier" "$issuer/token")"
user_token="$(printf '%s' "$tokens" | access_token_of)"
etag="$(curl -s -D - -o /dev/null "$issuer/jwks.json" | grep -i '^etag:' | cut -d' ' -f2 | tr -d '\r')"
check "userinfo with the user's access token" 200 -H "Authorization: Bearer $user_token" "$issuer/userinfo"
check "JWKS revalidation with If-None-Match" 304 -H "If-None-Match: $etag" "$issuer/jwks.json"

echo "==> the ceilings"
"$harness/rsa-limit.sh" 3 3 | tee "$work/rsa.txt"
fact rsa_sign_per_s "$(awk '/procs  sign\/s/{print $5}' "$work/rsa.txt")"
cargo bench --quiet --bench login_ceiling -- 5 2>/dev/null | tee "$work/argon2.txt"
fact argon2_per_s "$(awk '/^verifications\/s:/{print $2}' "$work/argon2.txt")"

echo "==> discovery, JWKS, client_credentials and introspection, alternating with node-oidc-provider"
# A copy of the shared harness: results and the peer's node_modules stay out of the shared
# folder. run.sh reads its tab-separated endpoint specs with IFS=tab, which merges empty
# fields, so the JWKS row's note ("2 keys") became a request body, and a GET with an unread
# body makes actix close the connection; the copy reads the fields with a non-blank separator.
copy="$root/target/bench/harness"
mkdir -p "$copy/peer/node-oidc-provider"
cp -r "$harness/compare.sh" "$harness/rsa-limit.sh" "$harness/run.sh" "$harness/lib" "$copy/"
cp "$harness"/peer/node-oidc-provider/*.{mjs,json} "$copy/peer/node-oidc-provider/"
sed -i "s/IFS=\$'\\\\t' read -r kind _ method url body auth note <<< \"\$line\"/IFS=\$'\\\\x1f' read -r kind _ method url body auth note <<< \"\${line\/\/\$'\\\\t'\/\$'\\\\x1f'}\"/" "$copy/run.sh"
grep -q "x1f' read -r kind" "$copy/run.sh" || { echo "could not adapt the shared run.sh; see bench/run.sh" >&2; exit 1; }
# The peer gives every token its API resource, which its own userinfo refuses. With
# USERINFO_LOGINS, the copy leaves openid logins without a default resource, so they get
# the ordinary userinfo token any oidc-provider deployment issues; and its code-flow check
# prints that token after the exchange (before it tests reuse, which revokes the grant).
peer_copy="$copy/peer/node-oidc-provider"
sed -i "s/defaultResource(_ctx, _client, oneOf) {/defaultResource(ctx, _client, oneOf) {\\n        if (process.env.USERINFO_LOGINS \&\& ctx.oidc.params?.scope?.split(' ').includes('openid')) return oneOf;/" \
  "$peer_copy/server.mjs"
sed -i '/^const { id_token: idToken, refresh_token: refreshToken } = exchanged.json;$/a if (process.env.PRINT_ACCESS_TOKEN) { console.log(`ACCESS_TOKEN ${exchanged.json.access_token}`); process.exit(0); }' \
  "$peer_copy/check-code-flow.mjs"
grep -q 'USERINFO_LOGINS &&' "$peer_copy/server.mjs" && grep -q PRINT_ACCESS_TOKEN "$peer_copy/check-code-flow.mjs" \
  || { echo "could not adapt the peer for userinfo; see bench/run.sh" >&2; exit 1; }
TARGET_NAME=wristband TARGET_ISSUER="$issuer" TARGET_CLIENT_ID=bench TARGET_CLIENT_SECRET="$service_secret" \
  TARGET_PID="$server" "$copy/compare.sh" | tee "$work/compare.txt"
cp "$(ls -t "$copy"/results/compare-*.tsv | head -1)" "$out/compare.tsv"

echo "==> userinfo, alternating with node-oidc-provider"
peer_port=4409
(cd "$peer_copy" && USERINFO_LOGINS=1 NODE_ENV=production HOST=127.0.0.1 PORT=$peer_port setsid node server.mjs \
  > "$work/peer.log" 2>&1 &)
peer_issuer="http://127.0.0.1:$peer_port"
for _ in $(seq 1 150); do curl -fsS -o /dev/null "$peer_issuer/.well-known/openid-configuration" 2>/dev/null && break; sleep 0.2; done
peer_pid="$(ss -Htlnp "sport = :$peer_port" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)"
[[ -n "$peer_pid" ]] || { cat "$work/peer.log" >&2; echo "the peer did not start" >&2; exit 1; }
peer_token="$(cd "$peer_copy" && PRINT_ACCESS_TOKEN=1 ISSUER="$peer_issuer" node check-code-flow.mjs | awk '/^ACCESS_TOKEN/{print $2}')"
check "the peer's userinfo with its user's access token" 200 -H "Authorization: Bearer $peer_token" "$peer_issuer/me"
for round in $(seq 1 "$ROUNDS"); do
  WRK_SCENARIO=fixed WRK_METHOD=GET WRK_BODY="" WRK_AUTH="Bearer $user_token" WRK_IF_NONE_MATCH="" WRK_EXPECT=200 \
    MEASURE_ROWS="$out/compare.tsv" MEASURE_ROUND="$round" measure userinfo "$CONNECTIONS" "$issuer/userinfo" "" ""
  (server="$peer_pid"
   WRK_SCENARIO=fixed WRK_METHOD=GET WRK_BODY="" WRK_AUTH="Bearer $peer_token" WRK_IF_NONE_MATCH="" WRK_EXPECT=200 \
     MEASURE_ROWS="$out/compare.tsv" MEASURE_TARGET=peer MEASURE_ROUND="$round" \
     measure userinfo "$CONNECTIONS" "$peer_issuer/me" "" "")
done
kill "$peer_pid"; peer_pid=""

echo "==> this project's scenarios (c=$CONNECTIONS, ${DURATION}s after ${WARMUP}s warm-up)"
WRK_SCENARIO=fixed WRK_METHOD=GET WRK_BODY="" WRK_AUTH="" WRK_IF_NONE_MATCH="$etag" WRK_EXPECT=304 \
  measure jwks_304 "$CONNECTIONS" "$issuer/jwks.json" "" ""

# mint <file> <count>: authorization codes for the signed-in browser, minted through
# /authorize by wrk until there are enough.
mint() {
  : > "$1"
  while (( $(wc -l < "$1") < $2 )); do
    WRK_SCENARIO=mint WRK_COOKIE="$session_cookie" WRK_OUT="$work/minted" wrk_run 3 8 "$authorize_url" > /dev/null
    cat "$work"/minted.* >> "$1"; rm -f "$work"/minted.*
  done
}
# Two signatures per exchange bound the rate; mint a fifth more than that could use.
rsa="$(awk -F'\t' '$1=="rsa_sign_per_s"{print $2}' "$facts")"
per_second="$(awk -v r="$rsa" 'BEGIN{printf "%d", r / 2 * 1.2 + 100}')"
echo "  minting $((per_second * (WARMUP + DURATION))) authorization codes"
mint "$work/codes.warmup" $((per_second * WARMUP))
mint "$work/codes.run" $((per_second * DURATION))
WRK_SCENARIO=exchange WRK_AUTH="$(basic web "$web_secret")" \
  measure code_exchange "$CONNECTIONS" "$issuer/token" "$work/codes.warmup" "$work/codes.run"

# refresh_pool <file>: one refresh-token family per connection and a few more, each rotated
# by one request at a time.
refresh_pool() {
  mint "$work/pool.codes" $((CONNECTIONS * 4))
  WRK_SCENARIO=exchange WRK_AUTH="$(basic web "$web_secret")" WRK_IN="$work/pool.codes" WRK_OUT="$work/pool" \
    wrk_run 3 4 "$issuer/token" > /dev/null
  cat "$work"/pool.* | grep '^wbr_' > "$1" || true
  rm -f "$work"/pool.*
  (( $(wc -l < "$1") >= CONNECTIONS )) || { echo "could not mint refresh tokens" >&2; exit 1; }
}
refresh_pool "$work/refresh.warmup"; refresh_pool "$work/refresh.run"
WRK_SCENARIO=refresh WRK_AUTH="$(basic web "$web_secret")" \
  measure refresh "$CONNECTIONS" "$issuer/token" "$work/refresh.warmup" "$work/refresh.run"

# Whole logins: one connection per wrk thread, each a login page, a form and an exchange.
login_connections=$(( $(nproc) * 2 ))
WRK_SCENARIO=login WRK_AUTH="$(basic web "$web_secret")" \
  measure login "$login_connections" "$authorize_url" "" "" "$login_connections"
# The same logins in the background while JWKS and client_credentials are timed.
under_logins() {
  local name="$1" url="$2"
  WRK_SCENARIO=login WRK_AUTH="$(basic web "$web_secret")" WRK_IN="" \
    wrk_run $((WARMUP + DURATION + 2)) "$login_connections" "$authorize_url" "$login_connections" > "$work/background" &
  local background=$!
  sleep 1
  measure "$name" 4 "$url" "" ""
  wait "$background"
}
WRK_SCENARIO=fixed WRK_METHOD=GET WRK_BODY="" WRK_AUTH="" WRK_IF_NONE_MATCH="" WRK_EXPECT=200 \
  under_logins jwks_during_logins "$issuer/jwks.json"
WRK_SCENARIO=fixed WRK_METHOD=POST WRK_BODY=grant_type=client_credentials WRK_AUTH="$(basic bench "$service_secret")" \
  WRK_IF_NONE_MATCH="" WRK_EXPECT=200 under_logins token_during_logins "$issuer/token"

if (( ROWS > 0 )); then
  echo "==> $ROWS users and $ROWS refresh-token families"
  WRK_SCENARIO=fixed WRK_METHOD=POST WRK_BODY=grant_type=client_credentials WRK_AUTH="$(basic bench "$service_secret")" \
    WRK_IF_NONE_MATCH="" WRK_EXPECT=200 measure client_credentials "$CONNECTIONS" "$issuer/token" "" ""
  # The same for an API (RFC 8707): one more lookup, for the API's scopes and lifetime.
  WRK_SCENARIO=fixed WRK_METHOD=POST WRK_BODY="grant_type=client_credentials&resource=$api" \
    WRK_AUTH="$(basic bench "$service_secret")" WRK_IF_NONE_MATCH="" WRK_EXPECT=200 \
    measure client_credentials_resource "$CONNECTIONS" "$issuer/token" "" ""
  seeded="$(date +%s)"
  bench/seed-rows.sh "$ROWS"
  fact seed_seconds "$(( $(date +%s) - seeded ))"
  WRK_SCENARIO=fixed WRK_METHOD=POST WRK_BODY=grant_type=client_credentials WRK_AUTH="$(basic bench "$service_secret")" \
    WRK_IF_NONE_MATCH="" WRK_EXPECT=200 measure client_credentials_large "$CONNECTIONS" "$issuer/token" "" ""
  refresh_pool "$work/refresh.warmup"; refresh_pool "$work/refresh.run"
  WRK_SCENARIO=refresh WRK_AUTH="$(basic web "$web_secret")" \
    measure refresh_large "$CONNECTIONS" "$issuer/token" "$work/refresh.warmup" "$work/refresh.run"
fi
fact peak_rss_mib "$(awk '/^VmHWM/{printf "%.1f", $2 / 1024}' "/proc/$server/status")"

# What this round's features cost the hot paths: token, introspection, userinfo and JWKS on
# a server with none of them configured, then on one with all of them (a token for an API,
# RFC 8707; SMTP for mail; an upstream provider; a passkey allow-list), in alternating
# rounds on the same database, each a restart.
echo "==> the hot paths without and with this round's features"
"$wristband" client add plain --grant client_credentials --json > "$work/plain.json"
plain_auth="$(basic plain "$(secret_of < "$work/plain.json")")"
plain_token="$(curl -s -H "Authorization: $plain_auth" -d grant_type=client_credentials "$issuer/token" | access_token_of)"
api_token="$(curl -s -H "Authorization: $(basic bench "$service_secret")" -d grant_type=client_credentials \
  --data-urlencode "resource=$api" "$issuer/token" | access_token_of)"
# The user's access token of the start has expired by now: a fresh one from the same session.
curl -s -D "$work/authorize.headers" -o /dev/null -H "Cookie: $session_cookie" "$authorize_url"
user_token="$(curl -s -u "web:$web_secret" -d grant_type=authorization_code \
  -d "code=$(code_of "$work/authorize.headers")" --data-urlencode "redirect_uri=$redirect_uri" \
  -d "code_verifier=$code_verifier" "$issuer/token" | access_token_of)"
restart_server() {
  kill "$server"; wait "$server" 2>/dev/null || true
  start_server; wait_until_ready
}
hot_paths() {
  local features="$1" auth="$2" body="$3" token="$4"
  WRK_SCENARIO=fixed WRK_METHOD=POST WRK_BODY="$body" WRK_AUTH="$auth" WRK_IF_NONE_MATCH="" WRK_EXPECT=200 \
    measure "token_$features" "$CONNECTIONS" "$issuer/token" "" ""
  WRK_SCENARIO=fixed WRK_METHOD=POST WRK_BODY="token=$token" WRK_AUTH="$auth" WRK_IF_NONE_MATCH="" WRK_EXPECT=200 \
    measure "introspect_$features" "$CONNECTIONS" "$issuer/introspect" "" ""
  WRK_SCENARIO=fixed WRK_METHOD=GET WRK_BODY="" WRK_AUTH="Bearer $user_token" WRK_IF_NONE_MATCH="" WRK_EXPECT=200 \
    measure "userinfo_$features" "$CONNECTIONS" "$issuer/userinfo" "" ""
  WRK_SCENARIO=fixed WRK_METHOD=GET WRK_BODY="" WRK_AUTH="" WRK_IF_NONE_MATCH="" WRK_EXPECT=200 \
    measure "jwks_$features" "$CONNECTIONS" "$issuer/jwks.json" "" ""
}
for round in $(seq 1 "$ROUNDS"); do
  restart_server
  MEASURE_ROUND="$round" hot_paths without "$plain_auth" grant_type=client_credentials "$plain_token"
  printf 'upstream-secret' | "$wristband" upstream add corp --display-name Corp --client-id wristband \
    --client-secret-stdin --authorization-endpoint https://login.corp.example/authorize \
    --token-endpoint https://login.corp.example/token --userinfo-endpoint https://login.corp.example/userinfo > /dev/null
  (export WRISTBAND_SMTP_URL=smtp://127.0.0.1:2525 WRISTBAND_SMTP_INSECURE_PLAINTEXT=true \
     WRISTBAND_SMTP_FROM="wristband <id@example.com>" \
     WRISTBAND_PASSKEYS_ALLOWED_AAGUIDS=ee882879-721c-4913-9775-3dfcce97072a
   restart_server
   echo "$server" > "$work/features.pid"
   MEASURE_ROUND="$round" hot_paths with "$(basic bench "$service_secret")" \
     "grant_type=client_credentials&resource=$api" "$api_token")
  server="$(cat "$work/features.pid")"
  "$wristband" upstream remove corp > /dev/null
done

node bench/report.mjs "$out"
echo "raw rows: ${out#"$root/"}"
