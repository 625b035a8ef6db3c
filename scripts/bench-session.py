#!/usr/bin/env python3
"""Benchmark: long synthetic interactive sessions of the release `qcode` in tmux.

Phase 1 (memory and per-turn CPU): `--turns` prompts (default 1,000) typed one after another
into one interactive session against the mock model server
(crates/qcode-test-support/examples/mock_serve.rs), which answers every request with the same
`--tokens`-token stream (default 200), as fast as it can. After the turns in `--checkpoints` it
reads qcode's peak RSS (VmHWM), current RSS (VmRSS) from /proc/<pid>/status and its CPU time
(all threads, to the nanosecond from /proc/<pid>/task/*/schedstat; ended threads' last value). The history grows every turn, so this shows what a
long session costs: peak RSS growth per turn, and CPU per turn early in the session (the first
checkpoint interval) against late (the last one) — flat when no work grows with the history.

Phase 2 (CPU per streamed token): for each rate in `--rates` (default 1,000, 5,000 and 20,000
tokens/s; the mock pauses 1 ms every rate/1,000 tokens, so real rates are a little lower) a
fresh session streams `--rate-turns` answers of `--rate-tokens` tokens; qcode's CPU over those
turns divided by the tokens. Baselines on the same mock in the same run: `qcode -p` (headless,
no TUI) and `curl -N`, each as the CPU of a `--rate-tokens` run minus the CPU of a one-token run
(the median of `--runs`), i.e. the marginal CPU per streamed token without start-up. (The TUI
figure includes each turn's own work: typing the prompt, its cell, the turn's start and end.)

`--before PATH` measures a second qcode binary (rows with subject "qcode (before)"; its own
`-p` is "qcode -p (before)") in the same run, phase by phase, one after the other.

A turn is typed with `tmux send-keys`, and it is over when the prompt is empty again (the
composer shows its placeholder) and no "Esc to cancel" line is left; `capture-pane` is polled
every few ms. Nothing passes or fails: it prints numbers and ratios (and with `--json PATH`
writes them as rows for `scripts/bench all`).

`--quick`: 60 turns, 2 rate turns of 1,000 tokens, 3 runs (about a minute).

Usage: scripts/bench-session.py [--quick] [--turns 1000] [--tokens 200] [--checkpoints LIST]
                                [--rates 1000,5000,20000] [--rate-turns 10] [--rate-tokens 5000]
                                [--runs 5] [--skip-memory] [--skip-rate]
                                [--qcode PATH] [--before PATH] [--mock PATH] [--json PATH]
Build first: cargo build --release && cargo build --release -p qcode-test-support --example mock_serve
(PATHs default to $CARGO_TARGET_DIR or target/, release)
"""
import argparse, json, os, resource, shlex, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
ROWS, COLS = 30, 100
PLACEHOLDER = "Ask anything"
BUSY = "Esc to cancel"
STATUS = "bench-model · openai"
SOCK = f"qcode-bench-{os.getpid()}"


class Mock:
    def __init__(self, path, *args):
        self.p = subprocess.Popen([path, *args], stdout=subprocess.PIPE, text=True)
        self.url = self.p.stdout.readline().strip()
        if not self.url:
            self.close()
            sys.exit(f"{path} printed no address")

    def close(self):
        self.p.kill()
        self.p.wait()


def rate_mock(a, rate, tokens):
    every = max(1, rate // 1000)
    return Mock(a.mock, "--tokens", str(tokens), "--delay-us", "1000", "--delay-every", str(every))


class Session:
    """qcode in a session of the run's private tmux server."""

    def __init__(self, qcode, url, tmp, name):
        self.name = name
        home = os.path.join(tmp, name, "home")
        project = os.path.join(tmp, name, "project")
        os.makedirs(home)
        os.makedirs(os.path.join(project, ".git"))
        env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "DO_NOT_TRACK": "1",
               "OPENAI_BASE_URL": url, "OPENAI_API_KEY": "bench", "OPENAI_MODEL": "bench-model",
               "TERM": "tmux-256color"}
        cmd = "exec env -i " + " ".join(shlex.quote(f"{k}={v}") for k, v in env.items()) + \
            " " + shlex.quote(os.path.abspath(qcode))
        self.tmux("new-session", "-d", "-s", name, "-x", str(COLS), "-y", str(ROWS), "-c", project, cmd)
        self.pid = int(self.tmux("display-message", "-p", "-t", name, "#{pane_pid}").strip())
        self.threads = {}
        self.wait(lambda s: PLACEHOLDER in s and STATUS in s, "the prompt")

    def tmux(self, *args):
        return subprocess.run(["tmux", "-L", SOCK, "-f", "/dev/null", *args], check=True,
                              stdout=subprocess.PIPE, text=True).stdout

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def wait(self, check, what, timeout=120):
        deadline = time.perf_counter() + timeout
        while True:
            s = self.screen()
            if check(s):
                return s
            if time.perf_counter() > deadline:
                sys.exit(f"timed out waiting for {what}; the pane:\n{s}")
            time.sleep(0.003)

    def composer(self, screen):
        lines = [l for l in screen.rstrip("\n").split("\n")]
        while lines and not lines[-1].strip():
            lines.pop()
        return lines[-2] if len(lines) >= 2 else ""

    def turn(self, text):
        """Types `text`, waits until it is in the prompt, sends it, waits for the turn's end."""
        self.tmux("send-keys", "-t", self.name, "-l", text)
        self.wait(lambda s: text in self.composer(s), f"{text!r} typed")
        self.tmux("send-keys", "-t", self.name, "Enter")
        self.wait(lambda s: PLACEHOLDER in self.composer(s) and BUSY not in s, f"the end of {text!r}")

    def status(self):
        fields = {}
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                fields[k] = v.strip()
        return int(fields["VmHWM"].split()[0]) / 1024.0, int(fields["VmRSS"].split()[0]) / 1024.0

    def cpu(self):
        """CPU seconds of qcode so far, to the nanosecond: the sum over its threads of their
        time on a CPU (/proc/<pid>/task/<tid>/schedstat). A thread that ended keeps the time it
        had when last seen, so the figure never goes backwards."""
        for tid in os.listdir(f"/proc/{self.pid}/task"):
            try:
                with open(f"/proc/{self.pid}/task/{tid}/schedstat") as f:
                    self.threads[tid] = int(f.read().split()[0])
            except (FileNotFoundError, ProcessLookupError):
                pass  # the thread just ended
        return sum(self.threads.values()) / 1e9

    def close(self):
        subprocess.run(["tmux", "-L", SOCK, "kill-session", "-t", self.name], stderr=subprocess.DEVNULL)


def memory_run(a, qcode, tmp, name):
    """One long session; rows of (turn, VmHWM MB, VmRSS MB, CPU s since the start)."""
    mock = Mock(a.mock, "--tokens", str(a.tokens))
    checkpoints = set(a.checkpoint_list)
    rows = []
    try:
        s = Session(qcode, mock.url, tmp, name)
        try:
            hwm0, rss0 = s.status()
            cpu0 = s.cpu()
            rows.append((0, hwm0, rss0, 0.0))
            for turn in range(1, a.turns + 1):
                s.turn(f"turn {turn}")
                if turn in checkpoints:
                    hwm, rss = s.status()
                    rows.append((turn, hwm, rss, s.cpu() - cpu0))
            final = s.screen().rstrip("\n").split("\n")
        finally:
            s.close()
    finally:
        mock.close()
    return rows, final


def memory_phase(a, tmp, subjects, out):
    print(f"phase 1: {a.turns} turns of {a.tokens} tokens (mock at full speed)")
    results = {}
    for subject, qcode in subjects:
        rows, final = memory_run(a, qcode, tmp, "memory-" + str(len(results)))
        results[subject] = rows
        print(f"\n{subject} ({qcode})")
        print(f"{'after turn':>10} {'VmHWM MB':>9} {'VmRSS MB':>9} {'CPU s':>7} {'CPU ms/turn':>12}")
        prev = rows[0]
        for turn, hwm, rss, cpu in rows:
            per = (cpu - prev[3]) * 1e3 / (turn - prev[0]) if turn > prev[0] else 0.0
            print(f"{turn:>10} {hwm:>9.1f} {rss:>9.1f} {cpu:>7.2f} {per:>12.2f}")
            prev = (turn, hwm, rss, cpu)
            out.append(row("peak_rss_over_session", str(turn), subject, round(hwm, 2), "MB", "lower",
                           x=turn))
        growth = (rows[-1][1] - rows[1][1]) * 1024 / max(1, rows[-1][0] - rows[1][0])
        print(f"peak RSS growth after turn {rows[1][0]}: {growth:.2f} KB per turn; "
              f"last screen lines (check): {final[-3:]}")
        out.append(row("peak_rss_growth_per_turn", f"{a.turns:,} turns of {a.tokens} tokens",
                       subject, round(growth, 2), "KB/turn", "lower"))
        (t0, _, _, c0), (t1, _, _, c1) = rows[1], rows[2]
        (u0, _, _, d0), (u1, _, _, d1) = rows[-2], rows[-1]
        early = (c1 - c0) * 1e3 / (t1 - t0)
        late = (d1 - d0) * 1e3 / (u1 - u0)
        print(f"CPU per turn: turns {t0 + 1}–{t1} {early:.2f} ms, turns {u0 + 1}–{u1} {late:.2f} ms"
              f" (late/early {late / max(early, 1e-9):.2f}x)")
        out.append(row("cpu_per_turn", f"turns {t0 + 1}–{t1}", subject, round(early, 3),
                       "ms/turn", "lower", x=t1))
        out.append(row("cpu_per_turn", f"turns {u0 + 1}–{u1}", subject, round(late, 3),
                       "ms/turn", "lower", x=u1))
    if len(subjects) == 2:
        (s0, _), (s1, _) = subjects
        g = [next(r["value"] for r in out if r["measure"] == "peak_rss_growth_per_turn"
                  and r["subject"] == s) for s in (s0, s1)]
        print(f"\npeak RSS growth per turn: {s0} {g[0]:.2f} KB, {s1} {g[1]:.2f} KB")
    print()


def child_cpu(argv, **kw):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(os.devnull, "wb") as null:
        subprocess.run(argv, stdout=null, check=True, **kw)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def curl_argv(url):
    body = json.dumps({"model": "bench-model", "stream": True,
                       "stream_options": {"include_usage": True},
                       "messages": [{"role": "user", "content": "go"}]})
    return ["curl", "-sS", "-N", "-X", "POST", f"{url}/chat/completions",
            "-H", "Content-Type: application/json", "-H", "Authorization: Bearer bench", "-d", body]


def headless_argv(qcode, url, home):
    env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "DO_NOT_TRACK": "1",
           "OPENAI_BASE_URL": url, "OPENAI_API_KEY": "bench", "OPENAI_MODEL": "bench-model"}
    return [qcode, "-p", "go"], dict(stdin=subprocess.DEVNULL, env=env, cwd=home)


def marginal(run, long_url, short_url, runs, tokens):
    """Median CPU of a `tokens`-token run minus the median of a one-token run, per token."""
    run(long_url)  # warm-up
    full = statistics.median(run(long_url) for _ in range(runs))
    one = statistics.median(run(short_url) for _ in range(runs))
    return max(full - one, 0.0) * 1e6 / max(1, tokens - 1)


def tui_cpu(a, qcode, url, tmp, name):
    s = Session(qcode, url, tmp, name)
    try:
        s.turn("warm-up")
        cpu0 = s.cpu()
        for turn in range(a.rate_turns):
            s.turn(f"rate turn {turn}")
        return (s.cpu() - cpu0) * 1e6 / (a.rate_turns * a.rate_tokens)
    finally:
        s.close()


def rate_phase(a, tmp, subjects, out):
    home = os.path.join(tmp, "headless-home")
    os.makedirs(home, exist_ok=True)
    print(f"phase 2: CPU per streamed token; TUI: {a.rate_turns} turns of {a.rate_tokens} tokens; "
          f"-p and curl: median of {a.runs} runs, a one-token run's CPU subtracted")
    print(f"{'rate':>13} {'client':>20} {'CPU µs/token':>13} {'vs -p':>7} {'vs curl':>8}")
    short = Mock(a.mock, "--tokens", "1")
    try:
        for rate in a.rate_list:
            case = f"{rate:,} tokens/s"
            mock = rate_mock(a, rate, a.rate_tokens)
            try:
                curl = marginal(lambda u: child_cpu(curl_argv(u)), mock.url, short.url, a.runs,
                                a.rate_tokens)
                figures = [("curl", curl, None)]
                for subject, qcode in subjects:
                    p_subject = subject.replace("qcode", "qcode -p", 1)

                    def headless(u, qcode=qcode):
                        argv, kw = headless_argv(qcode, u, home)
                        return child_cpu(argv, **kw)

                    p = marginal(headless, mock.url, short.url, a.runs, a.rate_tokens)
                    t = tui_cpu(a, qcode, mock.url, tmp, f"rate-{rate}-{len(figures)}")
                    figures.append((p_subject, p, "curl"))
                    figures.append((subject, t, p_subject))
            finally:
                mock.close()
            values = {s: v for s, v, _ in figures}
            for subject, value, baseline in figures:
                vs_p = values[baseline] if baseline and baseline != "curl" else None
                vs = f"{value / vs_p:>6.2f}x" if vs_p else f"{'':>7}"
                print(f"{case:>13} {subject:>20} {value:>13.2f} {vs}"
                      f" {value / max(curl, 1e-9):>7.2f}x")
                # One measure per rate with every subject, so a chart shows them side by side;
                # the TUI is compared with its own -p, -p with curl.
                out.append(row("tui_cpu_per_token", case, subject, round(value, 3), "µs/token",
                               "lower", baseline_subject=baseline))
    finally:
        short.close()
    print()


def row(measure, case, subject, value, unit, better, x=None, baseline_subject=None):
    r = {"measure": measure, "case": case, "subject": subject, "value": value, "unit": unit,
         "better": better}
    if baseline_subject:
        r["baseline"] = baseline_subject
    if x is not None:
        r["x"] = x
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="fewer turns and runs: 60 turns, 2 rate turns of 1,000 tokens, 3 runs")
    ap.add_argument("--turns", type=int)
    ap.add_argument("--tokens", type=int, default=200)
    ap.add_argument("--checkpoints", help="turns after which memory and CPU are read")
    ap.add_argument("--rates", default="1000,5000,20000")
    ap.add_argument("--rate-turns", type=int)
    ap.add_argument("--rate-tokens", type=int)
    ap.add_argument("--runs", type=int, help="runs of -p and curl per rate (median)")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--skip-rate", action="store_true")
    ap.add_argument("--qcode", default=os.path.join(TARGET, "release/qcode"))
    ap.add_argument("--before", help="a second qcode binary measured in the same run")
    ap.add_argument("--mock", default=os.path.join(TARGET, "release/examples/mock_serve"))
    ap.add_argument("--json", help="write the figures as JSON rows to this file")
    a = ap.parse_args()
    a.turns = a.turns or (60 if a.quick else 1000)
    a.rate_turns = a.rate_turns or (2 if a.quick else 10)
    a.rate_tokens = a.rate_tokens or (1000 if a.quick else 5000)
    a.runs = a.runs or (3 if a.quick else 5)
    if a.checkpoints is None:
        a.checkpoints = ",".join(str(c) for c in sorted({1, *(a.turns * k // 10 for k in range(1, 11))}))
    try:
        a.checkpoint_list = sorted({int(c) for c in a.checkpoints.split(",")} | {a.turns})
        a.rate_list = [int(r) for r in a.rates.split(",")]
    except ValueError as e:
        sys.exit(f"--checkpoints and --rates take comma-separated numbers: {e}")
    a.checkpoint_list = [c for c in a.checkpoint_list if 1 <= c <= a.turns]
    if len(a.checkpoint_list) < 3:
        sys.exit("--checkpoints needs at least two turns before --turns (early and late intervals)")
    if a.turns < 3 or a.rate_turns < 1 or a.runs < 1 or a.rate_tokens < 2 or a.tokens < 1 or \
            any(r < 1 for r in a.rate_list):
        sys.exit("--turns ≥ 3, --rate-turns ≥ 1, --runs ≥ 1, --rate-tokens ≥ 2, --tokens ≥ 1, rates ≥ 1")
    for path in (a.qcode, a.mock, a.before):
        if path and not os.path.exists(path):
            sys.exit(f"missing {path}; build with: cargo build --release && "
                     "cargo build --release -p qcode-test-support --example mock_serve")
    if subprocess.run(["which", "tmux"], stdout=subprocess.DEVNULL).returncode != 0:
        sys.exit("tmux is needed (the sessions run in a private tmux server)")
    subjects = [("qcode", a.qcode)] + ([("qcode (before)", a.before)] if a.before else [])
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        # One private tmux server for the run, kept alive by an idle session.
        subprocess.run(["tmux", "-L", SOCK, "-f", "/dev/null", "new-session", "-d", "-s", "keepalive",
                        "sleep 36000"], check=True)
        try:
            if not a.skip_memory:
                memory_phase(a, tmp, subjects, out)
            if not a.skip_rate:
                rate_phase(a, tmp, subjects, out)
        finally:
            subprocess.run(["tmux", "-L", SOCK, "kill-server"], stderr=subprocess.DEVNULL)
    if a.json:
        doc = {"bench": "session", "title": "Long interactive session", "rows": out}
        tmp_path = a.json + ".tmp"
        with open(tmp_path, "w") as f:
            json.dump(doc, f, indent=1, ensure_ascii=False)
            f.write("\n")
        os.replace(tmp_path, a.json)
        print(f"wrote {a.json}")


if __name__ == "__main__":
    main()
