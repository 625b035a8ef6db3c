#!/usr/bin/env python3
"""Benchmark: `qcode -p` against `curl -N` reading the same mock stream.

Starts the mock model server (crates/qcode-test-support/examples/mock_serve.rs) serving N
tokens, one per SSE chunk, then runs both clients several times and prints wall time, CPU time
(user+sys) and peak RSS (medians), and qcode's ratios to curl. Both write to /dev/null.

Then a tool round trip: `qcode -p` where the model first calls read_file and then answers,
against the plain one-shot answer of the same size (both against the same kind of mock).

Usage: scripts/bench-stream.py [--tokens 2000,20000] [--runs 7] [--qcode target/release/qcode]
Build first: cargo build --release && cargo build --release -p qcode-test-support --example mock_serve
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def measure(argv, env, cwd):
    """Wall time, CPU time (user+sys) and peak RSS of one run.

    CPU comes from wait4 on a GNU time wrapper (microsecond resolution; on Linux it includes the
    wrapper's reaped child). Peak RSS comes from GNU time itself: a child forked straight from
    Python would report Python's own high-water mark, which survives exec."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        wrapped = ["/usr/bin/time", "-o", tf.name, "-f", "%M"] + argv
        start = time.perf_counter()
        with open(os.devnull, "wb") as null:
            p = subprocess.Popen(wrapped, stdout=null, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, cwd=cwd)
            err = p.stderr.read()
            _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - start
        p.stderr.close()
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{argv[0]} failed ({status}): {err.decode(errors='replace')}")
        max_kb = int(tf.read().split()[-1])
    return wall, ru.ru_utime + ru.ru_stime, max_kb / 1024.0


def median_of(runs, argv, env, cwd):
    samples = [measure(argv, env, cwd) for _ in range(runs)]
    return tuple(statistics.median(s[i] for s in samples) for i in range(3))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", default="2000,20000")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--qcode", default=os.path.join(ROOT, "target/release/qcode"))
    ap.add_argument("--mock", default=os.path.join(ROOT, "target/release/examples/mock_serve"))
    a = ap.parse_args()
    for path in (a.qcode, a.mock):
        if not os.path.exists(path):
            sys.exit(f"missing {path}; build with: cargo build --release && cargo build --release -p qcode-test-support --example mock_serve")
    print(f"{'tokens':>7} {'client':>6} {'wall ms':>9} {'cpu ms':>8} {'peak MB':>8}")
    results = {}
    for n in [int(t) for t in a.tokens.split(",")]:
        mock = subprocess.Popen([a.mock, "--tokens", str(n)], stdout=subprocess.PIPE, text=True)
        url = mock.stdout.readline().strip()
        try:
            with tempfile.TemporaryDirectory() as home:
                env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "DO_NOT_TRACK": "1",
                       "OPENAI_BASE_URL": url, "OPENAI_API_KEY": "bench", "OPENAI_MODEL": "bench-model"}
                body = json.dumps({"model": "bench-model", "stream": True,
                                   "stream_options": {"include_usage": True},
                                   "messages": [{"role": "user", "content": "go"}]})
                curl = ["curl", "-sS", "-N", "-X", "POST", f"{url}/chat/completions",
                        "-H", "Content-Type: application/json", "-H", "Authorization: Bearer bench", "-d", body]
                qcode = [a.qcode, "-p", "go"]
                # Warm up both (page cache, first connection).
                measure(curl, env, home)
                measure(qcode, env, home)
                c = median_of(a.runs, curl, env, home)
                q = median_of(a.runs, qcode, env, home)
        finally:
            mock.kill()
            mock.wait()
        for name, m in (("curl", c), ("qcode", q)):
            print(f"{n:>7} {name:>6} {m[0]*1000:>9.1f} {m[1]*1000:>8.1f} {m[2]:>8.1f}")
        print(f"{n:>7} {'ratio':>6} {q[0]/c[0]:>8.2f}x {q[1]/max(c[1],1e-9):>7.2f}x {q[2]/c[2]:>7.2f}x")
        results[n] = {"curl": c, "qcode": q}
    tool_round(a)
    return results


def tool_round(a, tokens=200):
    """One-shot answer vs. read_file + answer: what one tool round trip costs."""
    rows = {}
    for name, extra in (("one-shot", []), ("tool round", ["--tool-rounds", str(a.runs + 1)])):
        mock = subprocess.Popen([a.mock, "--tokens", str(tokens)] + extra, stdout=subprocess.PIPE, text=True)
        url = mock.stdout.readline().strip()
        try:
            with tempfile.TemporaryDirectory() as home:
                with open(os.path.join(home, "notes.txt"), "w") as f:
                    f.write("some notes\n" * 50)
                env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "DO_NOT_TRACK": "1",
                       "OPENAI_BASE_URL": url, "OPENAI_API_KEY": "bench", "OPENAI_MODEL": "bench-model"}
                qcode = [a.qcode, "-p", "go"]
                measure(qcode, env, home)
                rows[name] = median_of(a.runs, qcode, env, home)
        finally:
            mock.kill()
            mock.wait()
    print()
    print(f"{'scenario':>12} {'wall ms':>9} {'cpu ms':>8} {'peak MB':>8}")
    for name, m in rows.items():
        print(f"{name:>12} {m[0]*1000:>9.1f} {m[1]*1000:>8.1f} {m[2]:>8.1f}")
    one, tool = rows["one-shot"], rows["tool round"]
    print(f"{'ratio':>12} {tool[0]/one[0]:>8.2f}x {tool[1]/max(one[1],1e-9):>7.2f}x {tool[2]/one[2]:>7.2f}x"
          f"   (one tool round trip adds {(tool[0]-one[0])*1000:.1f} ms wall)")


if __name__ == "__main__":
    main()
