#!/usr/bin/env python3
"""Benchmark: interactive start-up, from launch to the prompt being drawn.

Two measurements, each against a baseline measured the same way in the same run:

1. tmux (what a user sees): `tmux new-session -d -x 100 -y 30` runs the program in a fresh
   session of an already running, private tmux server; `tmux capture-pane -p` is polled every
   ~2 ms until the prompt and the status line are on the screen. Baseline: `sh -c 'printf'`
   printing one line, polled until that line is visible. The difference is qcode's start-up
   cost as seen on screen; the polling resolution (one capture-pane ≈ 2-4 ms) is in both.
2. pty (qcode's own first frame): the program runs in a pseudo-terminal this script reads
   directly (it answers the cursor-position query like a terminal would); the time from spawn to
   the end of the first synchronized frame that holds the prompt. Baseline: spawn to the
   `printf` line.

Nothing here passes or fails; it prints medians and minimums of N runs, and qcode's overhead
and ratio against the baseline. Target: prompt drawn in under 50 ms.

With --before PATH, that qcode binary is measured in the same rounds ("qcode (before)").

Usage: scripts/bench-startup.py [--runs 20] [--quick] [--json PATH] [--qcode PATH] [--before PATH]
Build first: cargo build --release   (PATH defaults to $CARGO_TARGET_DIR or target/, release)
"""
import argparse, fcntl, os, select, shlex, statistics, struct, subprocess, sys, tempfile, termios, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import measure as m  # noqa: E402
from benchlib import results  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
ROWS, COLS = 30, 100
# The composer's placeholder and the status line (model · auth · approval mode).
QCODE_READY = ("Ask anything", "bench-model · openai · default")
BASELINE_LINE = "ready-baseline"
# The mock URL is never contacted at start; any unused local port works.
FAKE_URL = "http://127.0.0.1:9/v1"


def clean_env(home):
    return {"PATH": os.environ.get("PATH", ""), "HOME": home, "DO_NOT_TRACK": "1",
            "OPENAI_BASE_URL": FAKE_URL, "OPENAI_API_KEY": "bench", "OPENAI_MODEL": "bench-model"}


class Tmux:
    """A private tmux server (own socket, no config) for the whole run."""

    def __init__(self):
        self.sock = f"qcode-bench-{os.getpid()}"
        self.run("new-session", "-d", "-s", "keepalive", "-x", str(COLS), "-y", str(ROWS), "sleep 3600")

    def run(self, *args, capture=False):
        cmd = ["tmux", "-L", self.sock, "-f", "/dev/null", *args]
        if capture:
            return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        return ""

    def close(self):
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], stderr=subprocess.DEVNULL)


def tmux_time(tmux, name, argv, env, cwd, ready, timeout=10):
    """Seconds from `new-session` to all of `ready` being on the pane."""
    cmd = "exec env -i " + " ".join(shlex.quote(f"{k}={v}") for k, v in env.items()) + \
        " TERM=tmux-256color " + " ".join(shlex.quote(a) for a in argv)
    start = time.perf_counter()
    tmux.run("new-session", "-d", "-s", name, "-x", str(COLS), "-y", str(ROWS), "-c", cwd, cmd)
    deadline = start + timeout
    try:
        while True:
            screen = tmux.run("capture-pane", "-p", "-t", name, capture=True)
            if all(r in screen for r in ready):
                return time.perf_counter() - start
            if time.perf_counter() > deadline:
                sys.exit(f"{argv[0]} did not draw {ready} within {timeout} s; the pane:\n{screen}")
            time.sleep(0.002)
    finally:
        subprocess.run(["tmux", "-L", tmux.sock, "kill-session", "-t", name], stderr=subprocess.DEVNULL)


def pty_time(argv, env, cwd, done):
    """Seconds from spawn until `done(bytes so far)` holds, reading the program's pty directly."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    env = dict(env, TERM="xterm-256color")
    start = time.perf_counter()
    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
                         start_new_session=True,
                         preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
    os.close(slave)
    out = b""
    elapsed = None
    try:
        deadline = start + 10
        while elapsed is None:
            r, _, _ = select.select([master], [], [], 0.5)
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
                if b"\x1b[6n" in chunk:  # cursor position query: answer like a terminal
                    os.write(master, b"\x1b[1;1R")
                if done(out):
                    elapsed = time.perf_counter() - start
            if time.perf_counter() > deadline:
                break
    finally:
        if p.poll() is None:
            p.terminate()
        # Drain so the program is not blocked writing its restore sequences.
        end = time.perf_counter() + 2
        while p.poll() is None and time.perf_counter() < end:
            r, _, _ = select.select([master], [], [], 0.05)
            if r:
                try:
                    os.read(master, 65536)
                except OSError:
                    break
        p.wait()
        os.close(master)
    if elapsed is None:
        sys.exit(f"{argv[0]}: no first frame within 10 s; output: {out[-2000:]!r}")
    return elapsed


def qcode_first_frame(out):
    """The first complete synchronized frame that shows the prompt."""
    at = out.find(b"Ask anything")
    return at >= 0 and out.find(b"\x1b[?2026l", at) >= 0


def summary(samples):
    return statistics.median(samples) * 1000, min(samples) * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=20)
    m.add_common_args(ap, mock=False)
    a = ap.parse_args()
    if a.quick:
        a.runs = min(a.runs, 5)
    m.require(a.qcode)
    programs = m.subjects(a)
    baseline = ["sh", "-c", f"printf '{BASELINE_LINE}\\n'; exec sleep 60"]
    tmux = Tmux()
    samples = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            home = os.path.join(tmp, "home")
            project = os.path.join(tmp, "project")
            os.makedirs(home)
            os.makedirs(os.path.join(project, ".git"))
            env = clean_env(home)
            # Warm-up (page cache, tmux client) for all.
            tmux_time(tmux, "warm-b", baseline, env, project, (BASELINE_LINE,))
            for j, (_, path) in enumerate(programs):
                tmux_time(tmux, f"warm-q{j}", [path], env, project, QCODE_READY)
            names = ["printf baseline"] + [n for n, _ in programs]
            samples = {(method, n): [] for method in ("tmux", "pty") for n in names}
            for i in range(a.runs):
                # Interleaved, so drift on the shared machine hits all alike.
                samples[("tmux", "printf baseline")].append(
                    tmux_time(tmux, f"b{i}", baseline, env, project, (BASELINE_LINE,)))
                for j, (n, path) in enumerate(programs):
                    samples[("tmux", n)].append(tmux_time(tmux, f"q{j}-{i}", [path], env, project, QCODE_READY))
                samples[("pty", "printf baseline")].append(
                    pty_time(baseline, env, project, lambda o: BASELINE_LINE.encode() in o))
                for n, path in programs:
                    samples[("pty", n)].append(pty_time([path], env, project, qcode_first_frame))
    finally:
        tmux.close()
    rows = []
    print(f"start-up to prompt drawn, {a.runs} runs (ms)")
    print(f"{'method':>6} {'program':>16} {'median':>8} {'min':>8}")
    for method, measure_id, case in (("tmux", "startup_prompt", "prompt on screen (tmux)"),
                                     ("pty", "startup_first_frame", "first frame (pty)")):
        b = summary(samples[(method, "printf baseline")])
        print(f"{method:>6} {'printf baseline':>16} {b[0]:>8.1f} {b[1]:>8.1f}")
        rows.append(results.row(measure_id, case, "printf baseline", b[0], "ms"))
        for n, _ in programs:
            q = summary(samples[(method, n)])
            print(f"{method:>6} {n:>16} {q[0]:>8.1f} {q[1]:>8.1f}")
            print(f"{method:>6} {'overhead':>16} {q[0]-b[0]:>8.1f} {q[1]-b[1]:>8.1f}"
                  f"   ratio {q[0]/b[0]:.2f}x (median)")
            rows.append(results.row(measure_id, case, n, q[0], "ms", baseline="printf baseline"))
    target = summary(samples[("tmux", "qcode")])[0]
    print(f"target: prompt on screen in < 50 ms -> {target:.1f} ms median "
          f"({'met' if target < 50 else 'NOT met'})")
    if a.json:
        results.write(a.json, "startup", "Interactive start-up to the prompt", rows)


if __name__ == "__main__":
    main()
