#!/usr/bin/env python3
"""Benchmark: MCP servers and start-up — the prompt never waits for them, the first request does.

Three stdio servers are configured in the user's settings: server-everything twice (from
tests/peers/mcp, `npm ci` there first) and a small stdio server (written by this script) that
takes `--slow` seconds (default 2) to answer `initialize`.

1. Interactive start: launch to the prompt being drawn, measured as scripts/bench-startup.py
   does (a private tmux server, `capture-pane` polled; and qcode's first frame read from a pty),
   with the three servers and with none, interleaved in the same run.
2. First request: headless `qcode -p hi` against a local mock model (as scripts/bench-resume.py
   runs one); the time from spawn until the model server has the request's headers, with the
   three servers and with none. The first request waits for servers still starting (up to
   mcp.discoveryTimeout), so its delay is compared with the slowest server's `initialize` time,
   measured directly (spawn, send `initialize`, read the answer) in the same run.

Nothing here passes or fails: it prints medians and ratios.

Usage: scripts/bench-mcp.py [--runs 10] [--slow 2.0] [--quick] [--qcode PATH] [--before PATH] [--json PATH]
`--before PATH`: that binary runs too, interleaved (rows "qcode (before)"); `--json PATH` writes
the figures as JSON rows.
Build first: cargo build --release   (PATH defaults to $CARGO_TARGET_DIR or target/, release)
Needs tmux and node.
"""
import argparse, http.server, importlib.util, json, os, shutil, statistics, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
EVERYTHING = os.path.join(ROOT, "tests/peers/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js")


def load(name):
    """One of the sibling benchmark scripts as a module (their file names have dashes)."""
    spec = importlib.util.spec_from_file_location(name.replace("-", "_"), os.path.join(ROOT, "scripts", name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


startup = load("bench-startup")  # tmux_time, pty_time, qcode_first_frame, clean_env, Tmux
resume = load("bench-resume")    # Model: the mock model server that records arrivals

SLOW_SERVER = r'''
import json, sys, time
SLOW = float(sys.argv[1])
for line in sys.stdin:
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if "id" not in msg:
        continue  # a notification
    method = msg.get("method")
    if method == "initialize":
        time.sleep(SLOW)
        result = {"protocolVersion": msg.get("params", {}).get("protocolVersion", "2025-06-18"),
                  "capabilities": {"tools": {}}, "serverInfo": {"name": "slow", "version": "1"}}
    elif method == "tools/list":
        result = {"tools": [{"name": "nap", "description": "Does nothing.",
                             "inputSchema": {"type": "object", "properties": {}}}]}
    elif method == "ping":
        result = {}
    else:
        out = {"jsonrpc": "2.0", "id": msg["id"], "error": {"code": -32601, "message": "no such method"}}
        print(json.dumps(out), flush=True)
        continue
    print(json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result}), flush=True)
'''


def servers(everything, slow_script, slow):
    return {
        "everything1": {"command": "node", "args": [everything, "stdio"]},
        "everything2": {"command": "node", "args": [everything, "stdio"]},
        "slow": {"command": sys.executable, "args": [slow_script, str(slow)]},
    }


def initialize_time(entry, cwd):
    """Seconds from spawn to the `initialize` answer of one server, talked to directly."""
    request = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
               "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                          "clientInfo": {"name": "bench", "version": "1"}}}
    start = time.perf_counter()
    p = subprocess.Popen([entry["command"], *entry["args"]], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, cwd=cwd, text=True)
    try:
        p.stdin.write(json.dumps(request) + "\n")
        p.stdin.flush()
        for line in p.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg.get("id") == 1:
                if "result" not in msg:
                    sys.exit(f"{entry['command']} refused initialize: {msg}")
                return time.perf_counter() - start
        sys.exit(f"{entry['command']} {' '.join(entry['args'])} closed without answering initialize")
    finally:
        p.stdin.close()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def leftovers(marker):
    """(pid, what) of processes of this run still alive: command line or working directory in
    `marker` (this run's temporary dir): qcode sessions and their servers."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            continue
        if marker.encode() in cmdline or cwd.startswith(marker):
            exe = os.path.basename(cmdline.split(b"\0")[0].decode(errors="replace"))
            found.append((int(entry), "qcode" if exe == "qcode" else "server"))
    return found


def reap(marker, orphans):
    """After a session ends: waits up to 6 s (qcode's own shutdown of its servers takes at most
    5: stdin closed, 1 s, SIGTERM, 2 s, SIGKILL, 2 s) for the session and its servers to be gone;
    kills (by pid) and counts what is still running, so that it neither skews later runs nor
    outlives the benchmark."""
    deadline = time.perf_counter() + 6
    while leftovers(marker) and time.perf_counter() < deadline:
        time.sleep(0.05)
    for pid, what in leftovers(marker):
        orphans.append(what)
        try:
            os.kill(pid, 9)
        except OSError:
            pass


def first_request(qcode, env, cwd):
    """Seconds from spawn until the mock model has the first request's headers."""
    before = len(resume.Model.arrivals)
    start = time.perf_counter()
    p = subprocess.run([qcode, "-p", "hi"], env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if p.returncode != 0 or len(resume.Model.arrivals) == before:
        sys.exit(f"qcode -p hi failed ({p.returncode}):\n{p.stderr.decode(errors='replace')}")
    return resume.Model.arrivals[before] - start


def ms(samples):
    return statistics.median(samples) * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="3 runs, the slow server at 0.5 s")
    ap.add_argument("--slow", type=float, default=2.0, help="seconds the slow server takes to answer initialize")
    ap.add_argument("--qcode", default=os.path.join(TARGET, "release", "qcode"))
    ap.add_argument("--before", help="a baseline qcode binary measured in the same run")
    ap.add_argument("--json", help="write the figures as JSON rows to this file")
    a = ap.parse_args()
    if a.quick:
        a.runs, a.slow = 3, min(a.slow, 0.5)
    if a.runs < 1 or a.slow < 0:
        sys.exit("--runs must be at least 1 and --slow not negative")
    binaries = {"qcode": a.qcode}
    if a.before:
        binaries["qcode (before)"] = a.before
    for path in binaries.values():
        if not os.path.exists(path):
            sys.exit(f"missing {path}; build with: cargo build --release")
    if not os.path.exists(EVERYTHING):
        sys.exit(f"missing {EVERYTHING}; run `npm ci` in tests/peers/mcp")
    for tool in ("tmux", "node"):
        if shutil.which(tool) is None:
            sys.exit(f"`{tool}` is not on PATH")
    binaries = {name: os.path.abspath(path) for name, path in binaries.items()}

    model = http.server.ThreadingHTTPServer(("127.0.0.1", 0), resume.Model)
    threading.Thread(target=model.serve_forever, daemon=True).start()
    tmux = startup.Tmux()
    tmp = tempfile.mkdtemp(prefix="qcode-bench-mcp-")
    try:
        slow_script = os.path.join(tmp, "slow_server.py")
        with open(slow_script, "w") as f:
            f.write(SLOW_SERVER)
        project = os.path.join(tmp, "project")
        os.makedirs(os.path.join(project, ".git"))
        # Through a link in the temporary dir, so this run's server processes can be told apart.
        package = os.path.join(tmp, "server-everything")
        os.symlink(os.path.dirname(os.path.dirname(EVERYTHING)), package)
        configured = servers(os.path.join(package, "dist", "index.js"), slow_script, a.slow)
        orphans = {"tmux (SIGHUP)": [], "pty (SIGTERM)": [], "-p": []}
        homes = {}
        for label, mcp in (("none", None), ("three", configured)):
            home = os.path.join(tmp, "home-" + label)
            os.makedirs(os.path.join(home, ".qcode"))
            if mcp:
                with open(os.path.join(home, ".qcode", "settings.json"), "w") as f:
                    json.dump({"mcpServers": mcp}, f)
            homes[label] = home
        env = {label: startup.clean_env(home) for label, home in homes.items()}
        model_url = f"http://127.0.0.1:{model.server_port}/v1"
        headless = {label: dict(e, OPENAI_BASE_URL=model_url) for label, e in env.items()}

        # Warm-up (page cache, node's compile cache, tmux client).
        for qcode in binaries.values():
            for label in env:
                startup.tmux_time(tmux, f"warm-{label}", [qcode], env[label], project, startup.QCODE_READY)
                first_request(qcode, headless[label], project)
        reap(tmp, [])
        init = {name: [] for name in configured}
        keys = [(b, l) for b in binaries for l in env]
        tmux_t = {k: [] for k in keys}
        pty_t = {k: [] for k in keys}
        req_t = {k: [] for k in keys}
        for i in range(a.runs):
            # Interleaved, so drift on the shared machine hits every variant alike.
            for name, entry in configured.items():
                init[name].append(initialize_time(entry, project))
            for b, qcode in binaries.items():
                for label in env:
                    k = (b, label)
                    tmux_t[k].append(startup.tmux_time(tmux, f"{label}{i}", [qcode], env[label], project, startup.QCODE_READY))
                    reap(tmp, orphans["tmux (SIGHUP)"])
                    pty_t[k].append(startup.pty_time([qcode], env[label], project, startup.qcode_first_frame))
                    reap(tmp, orphans["pty (SIGTERM)"])
                    req_t[k].append(first_request(qcode, headless[label], project))
                    reap(tmp, orphans["-p"])
    finally:
        tmux.close()
        model.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)

    rows = []

    def row(measure_id, case, subject, value, unit="ms", baseline=None):
        r = {"measure": measure_id, "case": case, "subject": subject, "value": round(value, 3),
             "unit": unit, "better": "lower"}
        if baseline:
            r["baseline"] = baseline
        rows.append(r)

    print(f"MCP start-up, {a.runs} runs, medians (ms); servers: everything x2 + one answering initialize after {a.slow} s")
    print("initialize, each server talked to directly:")
    for name, samples in init.items():
        print(f"  {name:<12} {ms(samples):8.1f}")
        row("mcp_initialize", name, "server", ms(samples))
    slowest = max(ms(s) for s in init.values())
    print(f"{'':<28}{'program':>16}{'no servers':>12}{'3 servers':>12}{'ratio':>8}")
    for what, data, mid in (("prompt on screen (tmux)", tmux_t, "mcp_prompt_drawn"),
                            ("first frame (pty)", pty_t, "mcp_first_frame"),
                            ("first request (-p)", req_t, "mcp_first_request")):
        for b in binaries:
            none, three = ms(data[b, "none"]), ms(data[b, "three"])
            print(f"  {what:<26}{b:>16}{none:12.1f}{three:12.1f}{three / none:8.2f}x")
            base = "qcode (before)" if b == "qcode" and a.before else None
            row(mid, "no servers", b, none, baseline=base)
            row(mid, "3 servers", b, three, baseline=base)
    for how, left in orphans.items():
        for what in ("qcode", "server"):
            n = left.count(what)
            if n:
                print(f"note: after sessions ended by {how}, {n} {what} processes were still running "
                      f"6 s later (killed by this script)")
    case = f"slowest initialize {a.slow:g} s"
    row("mcp_first_request_wait", case, "slowest server's initialize", slowest)
    for b in binaries:
        waited = ms(req_t[b, "three"]) - ms(req_t[b, "none"])
        row("mcp_first_request_wait", case, b, waited, baseline="slowest server's initialize")
        if slowest > 0:
            print(f"{b}: first request with servers - without: {waited:.1f} ms; slowest initialize: "
                  f"{slowest:.1f} ms (ratio {waited / slowest:.2f})")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"bench": "mcp", "title": "MCP servers at start-up", "rows": rows}, f, indent=1,
                      ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    main()
