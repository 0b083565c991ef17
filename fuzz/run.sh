#!/usr/bin/env bash
# Runs every fuzz target for N seconds each (default 60) from its seed corpus, on the
# nightly toolchain cargo fuzz needs. Any crash stops the run and leaves its input in
# fuzz/artifacts/<target>/; turn it into a regression test before fixing it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
for target in jwt authorize_request token_request; do
  echo "==> fuzzing $target for ${seconds}s"
  # New inputs go to fuzz/corpus/<target> (not committed); the seeds stay as they are.
  mkdir -p "fuzz/corpus/$target"
  cargo +nightly fuzz run "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -max_len=16384 -timeout=10
done
