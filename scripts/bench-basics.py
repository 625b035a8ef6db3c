#!/usr/bin/env python3
"""Benchmark: the "hold the line" basics of issue 17 that are not a stream.

- `qcode --version` wall time (target ≤ 5 ms): median of N spawns (posix_spawn + wait4 from
  Python, no shell), against `true` spawned the same way in the same rounds — the floor of
  starting any program here.
- The release binaries' size on disk as built, and stripped (`strip -o` a copy; target
  ≤ 20 MB for qcode), for qcode and qcode-sandbox-exec.

- Instructions (valgrind --tool=callgrind, when valgrind is installed): `--version` and a
  2,000-token one-shot against the mock, for qcode, the --before binary and curl. Unlike wall
  and CPU time these counts repeat to a fraction of a percent on a loaded machine, so they
  show small before/after differences that timings drown.

One-shot peak RSS and one-shot wall vs curl (the other figures of target 5) are measured by
scripts/bench-stream.py. Nothing passes or fails; it prints numbers.

Usage: scripts/bench-basics.py [--runs 50] [--quick] [--json PATH] [--qcode PATH] [--mock PATH]
                               [--before PATH] [--no-instructions]
Build first: cargo build --release && cargo build --release -p qcode-test-support --example mock_serve
"""
import argparse, json, os, re, shutil, statistics, subprocess, sys, tempfile, time

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


def instructions(argv, env, cwd):
    """Instructions executed by argv (all its threads) under callgrind."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        p = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--"] + argv,
                           env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           timeout=600)
        if p.returncode != 0:
            raise m.MeasureError(f"callgrind of {argv[0]} exited with {p.returncode}: {p.stderr[-800:]}")
        found = re.findall(r"Collected : (\d+)", p.stderr)
        if not found:
            raise m.MeasureError(f"callgrind printed no instruction count for {argv[0]}")
        return sum(int(x) for x in found)


def instruction_rows(a, rows):
    if not shutil.which("valgrind"):
        print("no valgrind on PATH: instruction counts are not measured")
        return
    m.require(a.mock)
    with m.MockServe(a.mock, "--tokens", 2000) as mock, tempfile.TemporaryDirectory() as home:
        env = m.client_env(home, mock.url)
        body = json.dumps({"model": "bench-model", "stream": True, "messages": [{"role": "user", "content": "go"}]})
        curl = ["curl", "-sS", "-N", "-X", "POST", f"{mock.url}/chat/completions", "-H",
                "Content-Type: application/json", "-d", body]
        print()
        print(f"{'instructions (callgrind)':>26} {'--version':>14} {'one-shot 2,000':>16}")
        curl_n = instructions(curl, env, home)
        rows.append(results.row("oneshot_instructions", "2,000 tokens", "curl", curl_n / 1e6, "M instr."))
        print(f"{'curl':>26} {'':>14} {curl_n:>16,}")
        for name, path in m.subjects(a):
            v = instructions([path, "--version"], env, home)
            o = instructions([path, "-p", "go"], env, home)
            print(f"{name:>26} {v:>14,} {o:>16,}")
            rows.append(results.row("version_instructions", "--version", name, v / 1e6, "M instr.",
                                    baseline=None if name == "qcode" else "qcode"))
            rows.append(results.row("oneshot_instructions", "2,000 tokens", name, o / 1e6, "M instr.",
                                    baseline="curl"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--no-instructions", action="store_true", help="skip the callgrind instruction counts")
    m.add_common_args(ap)
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
    if not a.no_instructions:
        try:
            instruction_rows(a, rows)
        except (m.MeasureError, subprocess.TimeoutExpired) as e:
            sys.exit(f"bench-basics: {e}")
    if a.json:
        results.write(a.json, "basics", "Hold the line: --version and binary size", rows)


if __name__ == "__main__":
    main()
