#!/usr/bin/env bash
# The long runs of docs/fuzzing.md: each target in turn (or those named), at low priority, for
# 10 minutes or 10 million executions, whichever comes first. New inputs go to
# fuzz/corpus/<target>; seeds are read from fuzz/seeds/<target> when present
# (fuzz/scripts/seeds.py makes them). Logs: fuzz/logs/<target>.log.
#   SECONDS_PER_TARGET=600 RUNS=10000000 fuzz/scripts/run.sh [target...]
set -uo pipefail
cd "$(dirname "$0")/.."
secs="${SECONDS_PER_TARGET:-600}"
runs="${RUNS:-10000000}"
max_len() {
  case "$1" in
    shell_split) echo 512 ;;
    dotenv | credentials) echo 2048 ;;
    settings | markdown) echo 4096 ;;
    *) echo 8192 ;;
  esac
}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
mkdir -p logs
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  extra=()
  if [ -d "seeds/$t" ]; then extra+=("seeds/$t"); fi
  flags=("-max_total_time=$secs" "-runs=$runs" "-timeout=5" "-rss_limit_mb=2048"
    "-max_len=$(max_len "$t")" "-print_final_stats=1")
  if [ -f "dict/$t.dict" ]; then flags+=("-dict=dict/$t.dict"); fi
  echo "== $t $(date -u +%H:%M:%S)"
  nice -n 19 cargo +nightly fuzz run "$t" "corpus/$t" "${extra[@]}" -- "${flags[@]}" >"logs/$t.log" 2>&1
  echo "   exit $? $(date -u +%H:%M:%S): $(grep -E '^#[0-9]+' "logs/$t.log" | tail -n 1)"
done
