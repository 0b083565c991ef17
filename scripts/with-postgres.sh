#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster on loopback, exported to it as
# WRISTBAND_TEST_DATABASE_URL; the cluster is removed afterwards, whatever the outcome.
#   scripts/with-postgres.sh cargo test
# Needs Debian's postgresql package (.ci/run installs it). Run as root or as a user that
# can run initdb; as root the cluster runs as the postgres user.
set -euo pipefail

[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -n "$pg_bin" ] || { echo "PostgreSQL is not installed (apt-get install -y postgresql)" >&2; exit 1; }
port=${WRISTBAND_PG_PORT:-55432}
dir=$(mktemp -d)
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chmod 755 "$dir"
  chown postgres: "$dir"
  as_pg=(runuser -u postgres --)
fi

stop() {
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

"${as_pg[@]}" "$pg_bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=500" \
  start >/dev/null

export WRISTBAND_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
"$@"
