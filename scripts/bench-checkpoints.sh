#!/usr/bin/env bash
# Benchmark: the cost of file checkpoints per shell command and per edit on a generated
# 10,000-file workspace, against the same command and the same write without tracking,
# measured in the same run (crates/qcode-session/examples/checkpoint_bench.rs).
# Prints numbers; nothing passes or fails.
#
# Usage: scripts/bench-checkpoints.sh [--quick] [--json PATH] [FILES] [ROUNDS]
#   (defaults: 10000 files, 30 rounds; --quick: 10000 files, 5 rounds)
# The library is measured, not a binary, so there is no --qcode: it is built from this checkout
# (into $CARGO_TARGET_DIR when set).
set -euo pipefail
cd "$(dirname "$0")/.."
json=()
numbers=()
rounds_default=30
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) rounds_default=5 ;;
    --json)
      [ $# -ge 2 ] || { echo "bench-checkpoints: --json needs a path" >&2; exit 2; }
      json=(--json "$2"); shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) numbers+=("$1") ;;
  esac
  shift
done
exec cargo run --quiet --release -p qcode-session --example checkpoint_bench -- \
  "${numbers[0]:-10000}" "${numbers[1]:-$rounds_default}" ${json[@]+"${json[@]}"}
