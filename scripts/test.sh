#!/usr/bin/env bash
# The test command of README's Quick start, and what .ci/run runs: installs whatever the
# tests need and the machine lacks (scripts/provision.sh), then runs the whole suite on
# SQLite and again on a throwaway PostgreSQL cluster.
#   scripts/test.sh                 both databases
#   scripts/test.sh --sqlite        SQLite only
#   scripts/test.sh [--sqlite] ARGS  ARGS go to `cargo test` (e.g. `-- attacks_`)
set -euo pipefail
cd "$(dirname "$0")/.."

postgres=1
if [[ "${1:-}" == "--sqlite" ]]; then
  postgres=0
  shift
fi

scripts/provision.sh

echo "==> cargo test (SQLite)"
cargo test --workspace "$@"
if [ "$postgres" = 1 ]; then
  echo "==> cargo test (PostgreSQL)"
  scripts/with-postgres.sh cargo test --workspace "$@"
fi
