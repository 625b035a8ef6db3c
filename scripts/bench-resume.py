#!/usr/bin/env python3
"""Benchmark: resuming a long recorded session (`qcode -c -p …`) of the release `qcode`.

A session is recorded once by qcode itself (`qcode -p hi` against a local model server this
script runs), then grown to `--messages` messages (default 10,000: user prompts, assistant
answers with tool calls, and tool results of ~2 KB on average, ≈ 20 MB) by appending lines in the
documented transcript format (docs/sessions.md). Then, N times each:

- baseline: `qcode -p next` (a new session, nothing to load);
- resumed:  `qcode -c -p next` (loads the transcript and resends the whole conversation).

Three sizes: a 200,000-token history (the issue's request-building case), half of
`--messages` and all of it (loading must be linear). With `--before PATH` that binary runs
too, interleaved (rows "qcode (before)"); `--json PATH` writes the figures as JSON rows.

For each run it measures the time from spawn until the model server has read the request's
headers (the request body — the whole history — is serialized before its headers are sent) and
the process's peak RSS (GNU time's %M). It prints medians, the resume's cost over the
baseline, memory over the transcript size, and the same at half the size to show that loading
is linear. Nothing passes or fails; the issue's targets are a first request within 100 ms of
start and at most about twice the transcript's size in memory.

Usage: scripts/bench-resume.py [--messages 10000] [--runs 10] [--quick] [--qcode PATH] [--before PATH] [--json PATH]
Needs GNU time (/usr/bin/time). Build first: cargo build --release   (PATH defaults to $CARGO_TARGET_DIR or target/, release)
"""
import argparse, glob, http.server, json, os, shutil, statistics, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))


class Model(http.server.BaseHTTPRequestHandler):
    """Answers every chat request with one streamed token; remembers when headers arrived."""
    protocol_version = "HTTP/1.1"
    arrivals = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        Model.arrivals.append(time.perf_counter())
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        Model.last_body_len = len(body)
        chunks = [
            {"id": "c", "object": "chat.completion.chunk", "model": "bench-model",
             "choices": [{"index": 0, "delta": {"role": "assistant", "content": "ok"}}]},
            {"id": "c", "object": "chat.completion.chunk", "model": "bench-model",
             "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        ]
        out = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        data = out.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


TIME = "/usr/bin/time"


def run(qcode, args, env, cwd):
    """(seconds from spawn to the request's arrival, peak RSS in MiB).

    Peak RSS comes from GNU time (`%M`): a child's own rusage would include the pages of this
    Python process it was forked from, which hold megabytes of their own."""
    before = len(Model.arrivals)
    start = time.perf_counter()
    p = subprocess.run([TIME, "-f", "maxrss=%M", qcode, *args], env=env, cwd=cwd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.decode(errors="replace")
    if p.returncode != 0 or len(Model.arrivals) == before:
        sys.exit(f"{' '.join(args)} failed ({p.returncode}):\n{err}")
    rss = [l for l in err.splitlines() if l.startswith("maxrss=")][-1]
    return Model.arrivals[before] - start, int(rss.split("=")[1]) / 1024.0


def grow(transcript, messages):
    """Appends user / assistant (with a tool call) / tool result lines up to `messages`."""
    with open(transcript) as f:
        lines = f.read().splitlines()
    seq = json.loads(lines[-1])["seq"]
    text = ("fn main() { println!(\"hello, \\\"world\\\"\"); } // ünïcödé\n" * 80)[:4000]
    ts = "2026-12-01T20:00:00.000Z"
    n, turn = 0, 0
    with open(transcript, "a") as f:
        def put(body):
            nonlocal seq, n
            seq += 1
            n += 1
            f.write(json.dumps(dict(seq=seq, ts=ts, **body), ensure_ascii=False) + "\n")
        while n < messages:
            turn += 1
            put({"type": "user", "content": f"turn {turn}: please change this\n{text[:800]}"})
            call = {"id": f"call_{turn}", "name": "read_file",
                    "arguments": json.dumps({"absolute_path": f"/src/file{turn}.rs"})}
            put({"type": "assistant", "content": text[:1200], "tool_calls": [call]})
            put({"type": "tool_result", "tool_call_id": f"call_{turn}", "content": text[:3200]})
            put({"type": "assistant", "content": text[:1600]})
    return os.path.getsize(transcript)


def measure(qcode, env, cwd, runs, args):
    times, rss = [], []
    for _ in range(runs):
        t, m = run(qcode, args, env, cwd)
        times.append(t)
        rss.append(m)
    return statistics.median(times), statistics.median(rss)


# Characters of one grown turn (user, assistant with a call, tool result, answer): 4 messages.
TURN_CHARS = 800 + 1200 + 3200 + 1600
HISTORY_TOKENS = 200_000


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="3 runs, 2,000 messages at most")
    ap.add_argument("--qcode", default=os.path.join(TARGET, "release", "qcode"))
    ap.add_argument("--before", help="a baseline qcode binary measured in the same run")
    ap.add_argument("--json", help="write the figures as JSON rows to this file")
    a = ap.parse_args()
    if a.quick:
        a.runs, a.messages = 3, min(a.messages, 2000)
    if a.runs < 1 or a.messages < 8:
        sys.exit("--runs must be at least 1 and --messages at least 8")
    binaries = {"qcode": a.qcode}
    if a.before:
        binaries["qcode (before)"] = a.before
    for path in binaries.values():
        if not os.path.exists(path):
            sys.exit(f"{path} not found; build first: cargo build --release")
    if not os.path.exists(TIME):
        sys.exit(f"{TIME} not found: install GNU time (Debian package `time`)")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Model)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    tmp = tempfile.mkdtemp(prefix="qcode-bench-resume-")
    try:
        home, project = os.path.join(tmp, "home"), os.path.join(tmp, "project")
        os.makedirs(home)
        os.makedirs(project)
        env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "DO_NOT_TRACK": "1",
               "OPENAI_BASE_URL": f"http://127.0.0.1:{server.server_port}/v1",
               "OPENAI_API_KEY": "bench", "OPENAI_MODEL": "bench-model",
               "QCODE_HOME": os.path.join(home, ".qcode")}
        run(a.qcode, ["-p", "hi"], env, project)
        [transcript] = glob.glob(os.path.join(home, ".qcode", "projects", "*", "chats", "*.jsonl"))
        seed = open(transcript, "rb").read()
        # Baseline runs record sessions of their own: keep them in another QCODE_HOME, so that
        # `-c` always continues the big one.
        base_env = dict(env, QCODE_HOME=os.path.join(tmp, "baseline-home"))

        # A 200,000-token history (the request-building target), then half the size and the
        # whole size (loading must be linear; the whole one is the 20 MB target).
        sizes = [4 * -(-HISTORY_TOKENS * 4 // TURN_CHARS), a.messages // 2, a.messages]
        rows = []
        for messages in sizes:
            with open(transcript, "wb") as f:
                f.write(seed)
            size = grow(transcript, messages)
            # Resuming appends to the transcript; restore it before every run so each loads the
            # same file.
            grown = open(transcript, "rb").read()
            for name, qcode in binaries.items():
                run(qcode, ["-p", "warm"], base_env, project)
            samples = {name: ([], [], [], []) for name in binaries}
            for _ in range(a.runs):
                # Interleaved, so drift on the shared machine hits every binary alike.
                for name, qcode in binaries.items():
                    bt, bm, rt, rm = samples[name]
                    t, m = run(qcode, ["-p", "next"], base_env, project)
                    bt.append(t)
                    bm.append(m)
                    with open(transcript, "wb") as f:
                        f.write(grown)
                    t, m = run(qcode, ["-c", "-p", "next"], env, project)
                    rt.append(t)
                    rm.append(m)
            body = Model.last_body_len
            for name in binaries:
                bt, bm, rt, rm = (statistics.median(x) for x in samples[name])
                rows.append((name, messages, size, bt, bm, rt, rm, body))

        print(f"resume benchmark: {a.runs} runs each, medians; " +
              ", ".join(f"{n} {p}" for n, p in binaries.items()))
        print(f"{'program':>15} {'messages':>9} {'transcript MB':>13} {'request MB':>10} {'new ms':>7} "
              f"{'resumed ms':>10} {'cost ms':>8} {'new RSS MB':>10} {'resumed RSS MB':>14} "
              f"{'RSS growth / transcript':>23}")
        for name, messages, size, bt, bm, rt, rm, body in rows:
            mb = size / 2**20
            print(f"{name:>15} {messages:>9} {mb:>13.1f} {body / 2**20:>10.1f} {bt * 1000:>7.1f} "
                  f"{rt * 1000:>10.1f} {(rt - bt) * 1000:>8.1f} {bm:>10.1f} {rm:>14.1f} "
                  f"{(rm - bm) / mb:>22.2f}×")
        out = []
        for name, messages, size, bt, bm, rt, rm, body in rows:
            mine = [r for r in rows if r[0] == name]
            case = (f"{HISTORY_TOKENS:,} tokens ({messages:,} messages)" if messages == mine[0][1]
                    else f"{size / 2**20:.0f} MB ({messages:,} messages)")
            base = "qcode (before)" if name == "qcode" and a.before else None
            for measure_id, value, unit in (("resume_first_request", rt * 1000, "ms"),
                                            ("resume_cost", (rt - bt) * 1000, "ms"),
                                            ("resume_rss", rm, "MiB")):
                r = {"measure": measure_id, "case": case, "subject": name, "value": round(value, 3),
                     "unit": unit, "better": "lower"}
                if base:
                    r["baseline"] = base
                out.append(r)
            out.append({"measure": "resume_new_session_request", "case": case, "subject": name,
                        "value": round(bt * 1000, 3), "unit": "ms", "better": "lower"})
        for name in binaries:
            (_, m0, s0, b0, _, r0, _, _), (_, m1, s1, b1, _, r1, _, _), (_, m2, s2, b2, _, r2, _, _) = \
                [r for r in rows if r[0] == name]
            print(f"{name}: loading cost per MB of transcript: {(r1 - b1) * 1000 / (s1 / 2**20):.2f} ms at "
                  f"{m1} messages, {(r2 - b2) * 1000 / (s2 / 2**20):.2f} ms at {m2} (equal = linear)")
            print(f"{name}: first request of the {HISTORY_TOKENS:,}-token session ({m0} messages): "
                  f"{r0 * 1000:.1f} ms after start, {(r0 - b0) * 1000:.1f} ms more than a new session's")
            print(f"{name}: first request of the {m2}-message session: {r2 * 1000:.1f} ms after start "
                  f"(target ≤ 100 ms), {r2 / b2:.2f}× a new session's")
        if a.json:
            with open(a.json, "w") as f:
                json.dump({"bench": "resume", "title": "Resuming a long session", "rows": out}, f,
                          indent=1, ensure_ascii=False)
                f.write("\n")
    finally:
        server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
