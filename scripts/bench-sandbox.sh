#!/usr/bin/env bash
# Benchmark: what the sandbox launcher adds to one shell command. Runs `bash -c true` directly,
# through the dedicated launcher `qcode-sandbox-exec POLICY -- bash -c true` (the exact command
# line the shell tool uses, with the default workspace-write policy of a scratch workspace and
# home) and through the fallback `qcode __sandbox-exec POLICY -- …`, in the same run, and prints
# the median of each and the differences. Uses hyperfine when installed,
# else a loop of N runs timed one by one. Prints numbers; nothing passes or fails.
#
# Usage: scripts/bench-sandbox.sh [QCODE_BINARY] [RUNS]
#        (defaults: target/release/qcode, built if missing; 300)
set -euo pipefail
cd "$(dirname "$0")/.."
QCODE="${1:-}"
RUNS="${2:-300}"
if [ -z "$QCODE" ]; then
  QCODE="${CARGO_TARGET_DIR:-target}/release/qcode"
  [ -x "$QCODE" ] || cargo build --quiet --release
fi
SCRATCH="$(mktemp -d "${HOME}/.qcode-bench-sandbox.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT
mkdir -p "$SCRATCH/ws/.git/hooks" "$SCRATCH/ws/.qcode" "$SCRATCH/home/.qcode" "$SCRATCH/home/.qwen"
echo '{}' > "$SCRATCH/home/.qcode/credentials.json"
# The policy the shell tool would pass (see `qcode sandbox status`).
POLICY=$(cd "$SCRATCH/ws" && python3 - "$SCRATCH" <<'PY'
import json, sys, os
s = sys.argv[1]
home = os.path.join(s, "home")
prot = []
for f in [".qcode/credentials.json", ".qcode/mcp-oauth-tokens.json", ".qwen/oauth_creds.json"]:
    prot += [os.path.join(home, f), os.path.join(home, f) + ".lock"]
prot.append(os.path.join(home, ".qwen/oauth_creds.lock"))
print(json.dumps({"mode": "workspace-write", "workspaceRoots": [os.path.join(s, "ws")],
                  "writableRoots": [], "tempDirs": ["/tmp", "/var/tmp"],
                  "protectedFiles": prot, "network": False}))
PY
)
cd "$SCRATCH/ws"
SMALL="$(dirname "$QCODE")/qcode-sandbox-exec"
echo "qcode: $QCODE"
echo "kernel: $(uname -r); $("$QCODE" sandbox status 2>/dev/null | grep -m1 Landlock || true)"
if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 20 --runs "$RUNS" --export-json "$SCRATCH/h.json" \
    "bash -c true" "$SMALL '$POLICY' -- bash -c true" "$QCODE __sandbox-exec '$POLICY' -- bash -c true"
  python3 - "$SCRATCH/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
a, b, c = (x["median"] * 1e3 for x in r)
print(f"median: unsandboxed {a:.2f} ms; qcode-sandbox-exec {b:.2f} ms (added {b - a:.2f} ms per "
      f"command); qcode __sandbox-exec {c:.2f} ms (added {c - a:.2f} ms)")
PY
else
  python3 - "$QCODE" "$SMALL" "$POLICY" "$RUNS" <<'PY'
import subprocess, sys, time, statistics
qcode, small, policy, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
plain = ["bash", "-c", "true"]
boxed = [small, policy, "--", "bash", "-c", "true"]
fallback = [qcode, "__sandbox-exec", policy, "--", "bash", "-c", "true"]
def once(cmd):
    t = time.perf_counter(); subprocess.run(cmd, check=True); return time.perf_counter() - t
for cmd in (plain, boxed, fallback):
    for _ in range(20): once(cmd)
a, b, c = [], [], []
for _ in range(runs):  # interleaved, so that all see the same machine load
    a.append(once(plain)); b.append(once(boxed)); c.append(once(fallback))
ma, mb, mc = (statistics.median(x) * 1e3 for x in (a, b, c))
print(f"{runs} runs each (no hyperfine: a timed loop)")
print(f"median: unsandboxed {ma:.2f} ms; qcode-sandbox-exec {mb:.2f} ms (added {mb - ma:.2f} ms "
      f"per command); qcode __sandbox-exec {mc:.2f} ms (added {mc - ma:.2f} ms)")
PY
fi
