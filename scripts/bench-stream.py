#!/usr/bin/env python3
"""Benchmark: `qcode -p` against `curl -N` reading the same mock stream.

Starts the mock model server (crates/qcode-test-support/examples/mock_serve.rs) serving N
tokens, one per SSE chunk, then runs the clients interleaved several times and prints wall
time, CPU time (user+sys) and peak RSS (medians), and qcode's ratios to curl. All write to
/dev/null. With --before PATH, that qcode binary is measured in the same rounds.

Then a tool round trip: `qcode -p` where the model first calls read_file and then answers,
against the plain one-shot answer of the same size (both against the same kind of mock, twice
as many runs as above); the difference of the medians is what one round trip adds (on a busy
machine it is within the noise of the one-shot's wall time, and can come out below zero).

Usage: scripts/bench-stream.py [--tokens 2000,20000] [--runs 7] [--quick] [--json PATH]
                               [--qcode PATH] [--mock PATH] [--before PATH]
Build first: cargo build --release && cargo build --release -p qcode-test-support --example mock_serve
"""
import argparse, json, os, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import measure as m  # noqa: E402
from benchlib import results  # noqa: E402


def curl_argv(url):
    body = json.dumps({"model": "bench-model", "stream": True,
                       "stream_options": {"include_usage": True},
                       "messages": [{"role": "user", "content": "go"}]})
    return ["curl", "-sS", "-N", "-X", "POST", f"{url}/chat/completions",
            "-H", "Content-Type: application/json", "-H", "Authorization: Bearer bench", "-d", body]


def one_shot(a, n, rows):
    with m.MockServe(a.mock, "--tokens", n) as mock, tempfile.TemporaryDirectory() as home:
        env = m.client_env(home, mock.url)
        cases = {"curl": lambda: m.run_measured(curl_argv(mock.url), env, home)}
        for name, path in m.subjects(a):
            cases[name] = (lambda p: lambda: m.run_measured([p, "-p", "go"], env, home))(path)
        med = m.interleaved(a.runs, cases)
    case = m.fmt_tokens(n)
    for name, (wall, cpu, rss) in med.items():
        base = None if name == "curl" else "curl"
        rows.append(results.row("oneshot_wall", case, name, wall * 1000, "ms", baseline=base))
        rows.append(results.row("oneshot_cpu", case, name, cpu * 1000, "ms", baseline=base))
        rows.append(results.row("oneshot_peak_rss", case, name, rss, "MiB", baseline=base))
        print(f"{n:>7} {name:>15} {wall*1000:>9.1f} {cpu*1000:>8.1f} {rss:>8.1f}")
    c = med["curl"]
    for name, _ in m.subjects(a):
        q = med[name]
        print(f"{n:>7} {'ratio ' + name.replace('qcode', 'q'):>15} {q[0]/c[0]:>8.2f}x "
              f"{q[1]/max(c[1], 1e-9):>7.2f}x {q[2]/c[2]:>7.2f}x")


def tool_round(a, rows, tokens=200):
    """One-shot answer vs. read_file + answer: what one tool round trip costs."""
    med = {}
    runs = 2 * a.runs  # the difference of two ~equal walls: more runs than the one-shot needs
    rounds = 2 * (runs + 1) * len(m.subjects(a))
    for scenario, extra in (("one-shot", []), ("tool round", ["--tool-rounds", rounds])):
        with m.MockServe(a.mock, "--tokens", tokens, *extra) as mock, tempfile.TemporaryDirectory() as home:
            with open(os.path.join(home, "notes.txt"), "w") as f:
                f.write("some notes\n" * 50)
            env = m.client_env(home, mock.url)
            cases = {name: (lambda p: lambda: m.run_measured([p, "-p", "go"], env, home))(path)
                     for name, path in m.subjects(a)}
            for name, v in m.interleaved(runs, cases).items():
                med[(scenario, name)] = v
    print()
    print(f"{'scenario':>12} {'program':>15} {'wall ms':>9} {'cpu ms':>8} {'peak MB':>8}")
    for (scenario, name), v in med.items():
        print(f"{scenario:>12} {name:>15} {v[0]*1000:>9.1f} {v[1]*1000:>8.1f} {v[2]:>8.1f}")
    for name, _ in m.subjects(a):
        one, tool = med[("one-shot", name)], med[("tool round", name)]
        added = (tool[0] - one[0]) * 1000
        print(f"{name}: one tool round trip adds {added:.1f} ms wall, "
              f"{(tool[1] - one[1]) * 1000:.1f} ms CPU")
        rows.append(results.row("tool_round_trip", "read_file, 200-token answers", name, added, "ms"))
        rows.append(results.row("tool_round_cpu", "read_file, 200-token answers", name,
                                (tool[1] - one[1]) * 1000, "ms"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tokens", default="2000,20000")
    ap.add_argument("--runs", type=int, default=7)
    m.add_common_args(ap)
    a = ap.parse_args()
    if a.quick:
        a.runs = min(a.runs, 3)
    try:
        tokens = [int(t) for t in a.tokens.split(",")]
    except ValueError:
        sys.exit(f"--tokens wants numbers separated by commas, not {a.tokens!r}")
    m.require(a.qcode, a.mock)
    rows = []
    try:
        print(f"{'tokens':>7} {'client':>15} {'wall ms':>9} {'cpu ms':>8} {'peak MB':>8}")
        for n in tokens:
            one_shot(a, n, rows)
        tool_round(a, rows)
    except m.MeasureError as e:
        sys.exit(f"bench-stream: {e}")
    if a.json:
        results.write(a.json, "stream", "One-shot streaming and a tool round trip", rows)


if __name__ == "__main__":
    main()
