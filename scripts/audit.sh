#!/usr/bin/env bash
# Checks Cargo.lock against the RustSec advisory database snapshot beside the project
# (the machines cannot fetch it). Vulnerable, unmaintained, unsound or yanked crates
# fail the run unless audit.toml holds a written exception for them.
set -euo pipefail
cd "$(dirname "$0")/.."
db="${WRISTBAND_ADVISORY_DB:-../shared/advisory-db}"
if ! command -v cargo-audit >/dev/null; then
  echo "==> installing cargo-audit (once; about 30 minutes on two cores)"
  cargo install cargo-audit --locked
fi
cargo audit --db "$db" --no-fetch --deny warnings
