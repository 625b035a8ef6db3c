#!/usr/bin/env bash
# Benchmark: what the sandbox launcher adds to one shell command. Runs `bash -c true` directly,
# through the dedicated launcher `qcode-sandbox-exec POLICY -- bash -c true` (the exact command
# line the shell tool uses, with the default workspace-write policy of a scratch workspace and
# home) and through the fallback `qcode __sandbox-exec POLICY -- …`, interleaved in the same
# run (a timed loop of posix_spawn + wait), and prints the median of each and the differences.
# With --before PATH, that qcode binary (and the qcode-sandbox-exec beside it) is measured in
# the same rounds. Prints numbers; nothing passes or fails.
#
# Usage: scripts/bench-sandbox.sh [--qcode PATH] [--runs N] [--quick] [--json PATH] [--before PATH]
#        scripts/bench-sandbox.sh [QCODE_BINARY] [RUNS]      (the older positional form)
#        (defaults: $CARGO_TARGET_DIR or target/, release qcode, built if missing; 300 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
QCODE=""
RUNS=300
JSON=""
BEFORE=""
POSITIONAL=()
while [ $# -gt 0 ]; do
  case "$1" in
    --qcode) QCODE="${2:?--qcode needs a path}"; shift 2 ;;
    --runs) RUNS="${2:?--runs needs a number}"; shift 2 ;;
    --json) JSON="${2:?--json needs a path}"; shift 2 ;;
    --before) BEFORE="${2:?--before needs a path}"; shift 2 ;;
    --quick) RUNS=30; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) echo "bench-sandbox.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) POSITIONAL+=("$1"); shift ;;
  esac
done
if [ ${#POSITIONAL[@]} -ge 1 ]; then QCODE="${POSITIONAL[0]}"; fi
if [ ${#POSITIONAL[@]} -ge 2 ]; then RUNS="${POSITIONAL[1]}"; fi
case "$RUNS" in ''|*[!0-9]*) echo "bench-sandbox.sh: the run count must be a number, not $RUNS" >&2; exit 2 ;; esac
if [ -z "$QCODE" ]; then
  QCODE="${CARGO_TARGET_DIR:-target}/release/qcode"
  [ -x "$QCODE" ] || cargo build --quiet --release
fi
for b in "$QCODE" ${BEFORE:+"$BEFORE"}; do
  [ -x "$b" ] || { echo "bench-sandbox.sh: no executable $b" >&2; exit 2; }
  [ -x "$(dirname "$b")/qcode-sandbox-exec" ] || { echo "bench-sandbox.sh: no qcode-sandbox-exec beside $b" >&2; exit 2; }
done
[ -z "$JSON" ] || JSON="$(cd "$(dirname "$JSON")" && pwd)/$(basename "$JSON")"
SCRATCH="$(mktemp -d "${HOME}/.qcode-bench-sandbox.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT
mkdir -p "$SCRATCH/ws/.git/hooks" "$SCRATCH/ws/.qcode" "$SCRATCH/home/.qcode" "$SCRATCH/home/.qwen"
echo '{}' > "$SCRATCH/home/.qcode/credentials.json"
BENCHLIB="$(pwd)/scripts"
cd "$SCRATCH/ws"
echo "qcode: $QCODE${BEFORE:+ (before: $BEFORE)}"
echo "kernel: $(uname -r); $("$QCODE" sandbox status 2>/dev/null | grep -m1 Landlock || true)"
python3 - "$SCRATCH" "$QCODE" "$RUNS" "$JSON" "$BEFORE" "$BENCHLIB" <<'PY'
import json, os, statistics, sys, time
scratch, qcode, runs, json_path, before, benchlib = sys.argv[1:7]
runs = int(runs)
sys.path.insert(0, benchlib)
from benchlib import results
home = os.path.join(scratch, "home")
# The policy the shell tool would pass (see `qcode sandbox status`).
prot = []
for f in [".qcode/credentials.json", ".qcode/mcp-oauth-tokens.json", ".qwen/oauth_creds.json"]:
    prot += [os.path.join(home, f), os.path.join(home, f) + ".lock"]
prot.append(os.path.join(home, ".qwen/oauth_creds.lock"))
policy = json.dumps({"mode": "workspace-write", "workspaceRoots": [os.path.join(scratch, "ws")],
                     "writableRoots": [], "tempDirs": ["/tmp", "/var/tmp"],
                     "protectedFiles": prot, "network": False})
bash = "/bin/bash" if os.path.exists("/bin/bash") else "/usr/bin/bash"
plain = [bash, "-c", "true"]
cases = {"unsandboxed": plain}
for label, q in (("", qcode), (" (before)", before)):
    if not q:
        continue
    q = os.path.abspath(q)
    cases["qcode-sandbox-exec" + label] = [os.path.join(os.path.dirname(q), "qcode-sandbox-exec"), policy, "--"] + plain
    cases["qcode __sandbox-exec" + label] = [q, "__sandbox-exec", policy, "--"] + plain
env = dict(os.environ)
null = os.open(os.devnull, os.O_WRONLY)
def once(argv):
    t = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=[(os.POSIX_SPAWN_DUP2, null, 1)])
    _, status, _ = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench-sandbox.sh: {argv[0]} exited with {os.waitstatus_to_exitcode(status)}")
    return time.perf_counter() - t
for argv in cases.values():
    for _ in range(10):
        once(argv)
samples = {k: [] for k in cases}
for _ in range(runs):  # interleaved, so that all see the same machine load
    for k, argv in cases.items():
        samples[k].append(once(argv))
med = {k: statistics.median(v) * 1e3 for k, v in samples.items()}
base = med["unsandboxed"]
print(f"{runs} runs each, interleaved; median ms (added to the unsandboxed command)")
rows = []
for k, v in med.items():
    extra = "" if k == "unsandboxed" else f"  (+{v - base:.2f} ms)"
    print(f"{k:>32} {v:>7.2f}{extra}")
    rows.append(results.row("shell_command_wall", "bash -c true", k, v, "ms",
                            baseline=None if k == "unsandboxed" else "unsandboxed"))
    if k != "unsandboxed":
        rows.append(results.row("sandbox_added", "per shell command", k, v - base, "ms"))
if json_path:
    results.write(json_path, "sandbox", "The sandbox per shell command", rows)
PY
