#!/usr/bin/env python3
"""Benchmark: the "hold the line" basics of issue 17 that are not a stream.

- `qcode --version` wall time (target ≤ 5 ms): median of N spawns (posix_spawn + wait4 from
  Python, no shell), against `true` spawned the same way in the same rounds — the floor of
  starting any program here.
- The release binaries' size on disk as built, and stripped (`strip -o` a copy; target
  ≤ 20 MB for qcode), for qcode and qcode-sandbox-exec.

One-shot peak RSS and one-shot wall vs curl (the other figures of target 5) are measured by
scripts/bench-stream.py. Nothing passes or fails; it prints numbers.

Usage: scripts/bench-basics.py [--runs 50] [--quick] [--json PATH] [--qcode PATH] [--before PATH]
Build first: cargo build --release
"""
import argparse, os, shutil, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import measure as m  # noqa: E402
from benchlib import results  # noqa: E402


def spawn_wall(argv, env):
    """(wall s, cpu s) of one run, stdout and stderr to /dev/null."""
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        actions = [(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)]
        start = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, env, file_actions=actions)
        _, status, ru = os.wait4(pid, 0)
        wall = time.perf_counter() - start
    finally:
        os.close(null)
    if os.waitstatus_to_exitcode(status) != 0:
        raise m.MeasureError(f"{' '.join(argv)} exited with {os.waitstatus_to_exitcode(status)}")
    return wall, ru.ru_utime + ru.ru_stime


def sizes(path, rows, subject):
    """Size as built and stripped, in MB (10^6 bytes)."""
    built = os.path.getsize(path) / 1e6
    name = os.path.basename(path)
    rows.append(results.row("binary_size", f"{name} as built", subject, built, "MB"))
    strip = shutil.which("strip")
    stripped = None
    if strip:
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, name)
            p = subprocess.run([strip, "-o", out, path], stderr=subprocess.PIPE, text=True)
            if p.returncode == 0:
                stripped = os.path.getsize(out) / 1e6
                rows.append(results.row("binary_size_stripped", name, subject, stripped, "MB"))
            else:
                print(f"strip failed on {path}: {p.stderr.strip()}")
    else:
        print("no `strip` on PATH: the stripped size is not measured")
    return built, stripped


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=50)
    m.add_common_args(ap, mock=False)
    a = ap.parse_args()
    if a.quick:
        a.runs = min(a.runs, 10)
    m.require(a.qcode)
    true = shutil.which("true")
    if not true:
        sys.exit("no `true` on PATH for the spawn baseline")
    rows = []
    with tempfile.TemporaryDirectory() as home:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "DO_NOT_TRACK": "1"}
        cases = {"true": lambda: spawn_wall([true], env)}
        for name, path in m.subjects(a):
            cases[name] = (lambda p: lambda: spawn_wall([p, "--version"], env))(path)
        try:
            med = m.interleaved(a.runs, cases, warmup=3)
        except m.MeasureError as e:
            sys.exit(f"bench-basics: {e}")
    print(f"--version, median of {a.runs} spawns")
    print(f"{'program':>26} {'wall ms':>9} {'cpu ms':>8}")
    for name, (wall, cpu) in med.items():
        label = "true" if name == "true" else f"{name} --version"
        print(f"{label:>26} {wall*1000:>9.2f} {cpu*1000:>8.2f}")
        base = None if name == "true" else "true"
        rows.append(results.row("version_wall", "--version", name, wall * 1000, "ms", baseline=base))
    print()
    print(f"{'binary':>34} {'as built MB':>12} {'stripped MB':>12}")
    for name, path in m.subjects(a):
        for binary in (path, os.path.join(os.path.dirname(path), "qcode-sandbox-exec")):
            if os.path.exists(binary):
                built, stripped = sizes(binary, rows, name)
                label = f"{name}: {os.path.basename(binary)}"
                print(f"{label:>34} {built:>12.2f} {stripped if stripped is not None else float('nan'):>12.2f}")
    if a.json:
        results.write(a.json, "basics", "Hold the line: --version and binary size", rows)


if __name__ == "__main__":
    main()
