#!/usr/bin/env bash
# wristband against the machine's limit and against node-oidc-provider, in one run:
# builds release, starts wristband on a fresh SQLite database with one client, measures
# start-up time and idle memory, the RSA-2048 signing ceiling, then runs the shared harness (../shared/bench/compare.sh),
# which verifies a sample answer of each endpoint before timing it and alternates
# wristband and the peer endpoint by endpoint.
#
# Usage: bench/run.sh        Knobs: the harness's DURATION WARMUP CONNECTIONS ROUNDS NICE
#                            ENDPOINTS; PORT (8480); WRISTBAND_BENCH_HARNESS (../shared/bench)
set -euo pipefail
cd "$(dirname "$0")/.."
harness="$(cd "${WRISTBAND_BENCH_HARNESS:-../shared/bench}" && pwd)"
port="${PORT:-8480}"

for tool in wrk node curl ss openssl; do
  command -v "$tool" >/dev/null || { echo "bench/run.sh needs $tool (wrk: apt-get install -y wrk)" >&2; exit 1; }
done

echo "==> cargo build --release"
cargo build --release --quiet
work="$(mktemp -d)"
server=""
cleanup() { [[ -n "$server" ]] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# A fresh deployment; the limits that protect a real one would throttle the load itself.
export WRISTBAND_BIND="127.0.0.1:$port"
export WRISTBAND_DATABASE_URL="sqlite://$work/wristband.db?mode=rwc"
export WRISTBAND_MASTER_KEY_FILE="$work/master.key"
export WRISTBAND_RATE_LIMITS_TOKEN_PER_IP=off WRISTBAND_RATE_LIMITS_TOKEN_PER_CLIENT=off
export WRISTBAND_RATE_LIMITS_INTROSPECT_PER_CLIENT=off WRISTBAND_RATE_LIMITS_LOGIN_FAILURES_PER_IP=off
client="$(target/release/wristband client add bench --grant client_credentials --json)"
secret="$(printf '%s' "$client" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).client_secret))')"

# A session of its own, so the harness's NICE can raise the server's priority alone.
start_server() {
  setsid target/release/wristband serve > "$work/serve.log" 2>&1 &
  server=$!
}
wait_until_ready() {
  for _ in $(seq 1 1000); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && return 0
    sleep 0.005
  done
  cat "$work/serve.log" >&2; exit 1
}
# The first start creates the database, the keys and the first administrator; the
# second is the one measured: exec to /readyz answering 200 on an existing database.
start_server; wait_until_ready; kill "$server"; wait "$server" 2>/dev/null || true
started="$(date +%s%N)"
start_server; wait_until_ready
echo "==> start-up to ready on an existing database: $(( ($(date +%s%N) - started) / 1000000 )) ms"
sleep 1
echo "==> idle RSS: $(awk '/^VmRSS/{printf "%.1f MiB", $2 / 1024}' "/proc/$server/status")"

echo "==> the ceiling: RSA-2048 signatures per second"
"$harness/rsa-limit.sh" 3 3

echo "==> wristband and node-oidc-provider, alternately"
TARGET_NAME=wristband TARGET_ISSUER="http://127.0.0.1:$port" TARGET_CLIENT_ID=bench \
  TARGET_CLIENT_SECRET="$secret" TARGET_PID="$server" "$harness/compare.sh"
