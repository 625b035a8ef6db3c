#!/usr/bin/env bash
# Benchmark: the cost of file checkpoints per shell command and per edit on a generated
# 10,000-file workspace, against the same command and the same write without tracking,
# measured in the same run (crates/qcode-session/examples/checkpoint_bench.rs).
# Prints numbers; nothing passes or fails.
#
# Usage: scripts/bench-checkpoints.sh [FILES] [ROUNDS]    (defaults: 10000 30)
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --quiet --release -p qcode-session --example checkpoint_bench -- "${1:-10000}" "${2:-30}"
