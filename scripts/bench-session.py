#!/usr/bin/env python3
"""Benchmark: a long synthetic interactive session of the release `qcode` in tmux.

Phase 1 (memory): `--turns` prompts (default 500) typed one after another into one interactive
session against the mock model server (crates/qcode-test-support/examples/mock_serve.rs), which
answers every request with the same `--tokens`-token stream, as fast as it can. After the turns
in `--checkpoints` (default 1,100,500) it reads qcode's peak RSS (VmHWM) and current RSS (VmRSS)
from /proc/<pid>/status. The history grows every turn, so this shows what a long session costs.

Phase 2 (CPU per streamed token): a fresh session against a mock streaming `--rate-tokens`
tokens per answer at ~5,000 tokens/s (`--delay-us 1000 --delay-every 5`); `--rate-turns`
prompts; qcode's CPU time (user+sys from /proc/<pid>/stat, all threads) divided by the tokens
streamed. Baseline measured in the same run: `curl -N` reading the same stream from the same
mock (CPU from the children's rusage, process start-up included), per token; and for reference
`qcode -p` (headless, no TUI) on the same stream.

A turn is typed with `tmux send-keys`, and it is over when the prompt is empty again (the
composer shows its placeholder) and no "Esc to cancel" line is left; `capture-pane` is polled
every few ms. Nothing passes or fails: it prints numbers and ratios.

Usage: scripts/bench-session.py [--turns 500] [--tokens 200] [--rate-turns 10]
                                [--rate-tokens 5000] [--qcode PATH] [--mock PATH]
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
CLK_TCK = os.sysconf("SC_CLK_TCK")


class Mock:
    def __init__(self, path, *args):
        self.p = subprocess.Popen([path, *args], stdout=subprocess.PIPE, text=True)
        self.url = self.p.stdout.readline().strip()

    def close(self):
        self.p.kill()
        self.p.wait()


class Session:
    """qcode in a session of a private tmux server."""

    def __init__(self, qcode, url, tmp, name):
        self.sock = f"qcode-bench-{os.getpid()}"
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
        self.wait(lambda s: PLACEHOLDER in s and STATUS in s, "the prompt")

    def tmux(self, *args):
        return subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null", *args], check=True,
                              stdout=subprocess.PIPE, text=True).stdout

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def wait(self, check, what, timeout=60):
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
        with open(f"/proc/{self.pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        # utime and stime are fields 14 and 15 (1-based); `rest` starts at field 3.
        return (int(rest[11]) + int(rest[12])) / CLK_TCK

    def close(self):
        subprocess.run(["tmux", "-L", self.sock, "kill-session", "-t", self.name], stderr=subprocess.DEVNULL)


def memory_phase(a, tmp):
    mock = Mock(a.mock, "--tokens", str(a.tokens))
    checkpoints = sorted(int(c) for c in a.checkpoints.split(","))
    rows = []
    try:
        s = Session(a.qcode, mock.url, tmp, "memory")
        try:
            hwm0, rss0 = s.status()
            rows.append((0, hwm0, rss0, 0.0))
            start = time.perf_counter()
            for turn in range(1, a.turns + 1):
                s.turn(f"turn {turn}")
                if turn in checkpoints:
                    hwm, rss = s.status()
                    rows.append((turn, hwm, rss, time.perf_counter() - start))
            cpu = s.cpu()
            final = s.screen().rstrip("\n").split("\n")
        finally:
            s.close()
    finally:
        mock.close()
    print(f"phase 1: {a.turns} turns of {a.tokens} tokens (mock at full speed)")
    print(f"{'after turn':>10} {'VmHWM MB':>9} {'VmRSS MB':>9} {'elapsed s':>10}")
    for turn, hwm, rss, el in rows:
        print(f"{turn:>10} {hwm:>9.1f} {rss:>9.1f} {el:>10.1f}")
    print(f"peak RSS growth from start: {rows[-1][1] - rows[0][1]:.1f} MB"
          f" ({(rows[-1][1] - rows[0][1]) * 1024 / a.turns:.1f} KB per turn);"
          f" qcode CPU for the whole session {cpu:.2f} s"
          f" = {cpu * 1e6 / (a.turns * a.tokens):.1f} µs per token incl. per-turn work")
    print(f"last screen lines (check): {final[-3:]}")


def curl_cpu(url, runs):
    body = json.dumps({"model": "bench-model", "stream": True,
                       "stream_options": {"include_usage": True},
                       "messages": [{"role": "user", "content": "go"}]})
    argv = ["curl", "-sS", "-N", "-X", "POST", f"{url}/chat/completions",
            "-H", "Content-Type: application/json", "-H", "Authorization: Bearer bench", "-d", body]
    samples, walls = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        with open(os.devnull, "wb") as null:
            subprocess.run(argv, stdout=null, check=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        samples.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return samples, walls


def headless_cpu(qcode, url, tmp, runs):
    """`qcode -p` reading the same stream (no TUI): CPU per run, start-up included."""
    home = os.path.join(tmp, "headless-home")
    os.makedirs(home, exist_ok=True)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "DO_NOT_TRACK": "1",
           "OPENAI_BASE_URL": url, "OPENAI_API_KEY": "bench", "OPENAI_MODEL": "bench-model"}
    samples = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(os.devnull, "wb") as null:
            subprocess.run([qcode, "-p", "go"], stdout=null, stdin=subprocess.DEVNULL, env=env,
                           cwd=home, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        samples.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return samples


def rate_phase(a, tmp):
    mock = Mock(a.mock, "--tokens", str(a.rate_tokens), "--delay-us", str(a.delay_us),
                "--delay-every", str(a.delay_every))
    try:
        s = Session(a.qcode, mock.url, tmp, "rate")
        try:
            s.turn("warm-up")
            cpu0 = s.cpu()
            start = time.perf_counter()
            for turn in range(a.rate_turns):
                s.turn(f"rate turn {turn}")
            wall = time.perf_counter() - start
            cpu = s.cpu() - cpu0
            hwm, _ = s.status()
        finally:
            s.close()
        curl_cpu(mock.url, 1)  # warm-up
        c_cpu, c_wall = curl_cpu(mock.url, a.rate_turns)
        h_cpu = headless_cpu(a.qcode, mock.url, tmp, a.rate_turns)
    finally:
        mock.close()
    tokens = a.rate_turns * a.rate_tokens
    q_per = cpu * 1e6 / tokens
    c_per = statistics.median(c_cpu) * 1e6 / a.rate_tokens
    print()
    print(f"phase 2: {a.rate_turns} turns of {a.rate_tokens} tokens, mock pausing {a.delay_us} µs "
          f"every {a.delay_every} tokens")
    print(f"{'client':>6} {'tokens/s':>9} {'CPU µs/token':>13} {'CPU % of a core':>16}")
    print(f"{'curl':>6} {a.rate_tokens / statistics.median(c_wall):>9.0f} {c_per:>13.2f}"
          f" {100 * statistics.median(c_cpu) / statistics.median(c_wall):>15.1f}%")
    h_per = statistics.median(h_cpu) * 1e6 / a.rate_tokens
    print(f"{'-p':>6} {'':>9} {h_per:>13.2f} {'':>16}  (qcode -p, same stream, start-up included)")
    print(f"{'qcode':>6} {tokens / wall:>9.0f} {q_per:>13.2f} {100 * cpu / wall:>15.1f}%")
    print(f"{'ratio':>6} {'':>9} {q_per / max(c_per, 1e-9):>12.2f}x"
          f"   (qcode wall includes typing and turn set-up; peak RSS {hwm:.1f} MB)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=500)
    ap.add_argument("--tokens", type=int, default=200)
    ap.add_argument("--checkpoints", default="1,100,500")
    ap.add_argument("--rate-turns", type=int, default=10)
    ap.add_argument("--rate-tokens", type=int, default=5000)
    ap.add_argument("--delay-us", type=int, default=1000)
    ap.add_argument("--delay-every", type=int, default=5)
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--qcode", default=os.path.join(TARGET, "release/qcode"))
    ap.add_argument("--mock", default=os.path.join(TARGET, "release/examples/mock_serve"))
    a = ap.parse_args()
    for path in (a.qcode, a.mock):
        if not os.path.exists(path):
            sys.exit(f"missing {path}; build with: cargo build --release && "
                     "cargo build --release -p qcode-test-support --example mock_serve")
    sock = f"qcode-bench-{os.getpid()}"
    with tempfile.TemporaryDirectory() as tmp:
        # One private tmux server for the run, kept alive by an idle session.
        subprocess.run(["tmux", "-L", sock, "-f", "/dev/null", "new-session", "-d", "-s", "keepalive",
                        "sleep 36000"], check=True)
        try:
            if not a.skip_memory:
                memory_phase(a, tmp)
            rate_phase(a, tmp)
        finally:
            subprocess.run(["tmux", "-L", sock, "kill-server"], stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
