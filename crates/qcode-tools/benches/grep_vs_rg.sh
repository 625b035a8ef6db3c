#!/usr/bin/env bash
# Compares grep_search (qcode-tools, release build) with ripgrep on the same search of a large
# tree. Both walk with the same rules: .gitignore honoured also outside git repositories,
# hidden files searched, .git skipped, binary files skipped. Both write their results to a
# pipe (ripgrep stops early when writing to /dev/null, so /dev/null is not used).
#
# Usage: crates/qcode-tools/benches/grep_vs_rg.sh [dir] [pattern...]
# Defaults: ~/.cargo/registry/src and a few patterns with fewer than 20,000 matches (the
# tool's largest `limit`), so that both searches read the whole tree.
set -euo pipefail

DIR=${1:-$HOME/.cargo/registry/src}
shift || true
if [ "$#" -gt 0 ]; then PATTERNS=("$@"); else
  PATTERNS=('unsafe impl Send' 'fn [a-z_]+_utf8\(' 'TODO|FIXME|XXX' 'deprecated\(since')
fi
RUNS=${RUNS:-5}

command -v rg >/dev/null || { echo "ripgrep not found: apt-get install -y ripgrep" >&2; exit 1; }
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$ROOT"
cargo build --release -q -p qcode-tools --example grep_bench
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/grep_bench

now() { date +%s%N; }
best_ms() { # best wall time of RUNS runs of "$@", output counted by wc -l
  local best=999999999 t0 t1 ms
  for _ in $(seq "$RUNS"); do
    t0=$(now); "$@" 2>/dev/null | wc -l >/dev/null; t1=$(now)
    ms=$(( (t1 - t0) / 1000000 )); [ "$ms" -lt "$best" ] && best=$ms
  done
  echo "$best"
}

echo "tree: $DIR ($(du -sh "$DIR" | cut -f1), $(find "$DIR" -type f | wc -l) files); $(rg --version | head -1); $(nproc) cores; best of $RUNS"
# Warm the page cache.
rg --no-require-git --hidden -g '!.git' -c zzzz_warm "$DIR" >/dev/null 2>&1 || true
printf '%-28s %10s %10s %10s %8s %8s\n' pattern rg_ms qcode_ms ratio rg_hits qc_hits
for p in "${PATTERNS[@]}"; do
  rg_hits=$(rg --no-require-git --hidden -g '!.git' -n --no-heading "$p" "$DIR" 2>/dev/null | wc -l)
  qc_hits=$("$BIN" "$DIR" "$p" 2>&1 >/dev/null | sed -n 's/^matches=\([0-9]*\).*/\1/p')
  rg_ms=$(best_ms rg --no-require-git --hidden -g '!.git' -n --no-heading "$p" "$DIR")
  qc_ms=$(best_ms "$BIN" "$DIR" "$p")
  ratio=$(awk -v a="$qc_ms" -v b="$rg_ms" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
  printf '%-28s %10s %10s %10s %8s %8s\n' "$p" "$rg_ms" "$qc_ms" "${ratio}x" "$rg_hits" "$qc_hits"
done
