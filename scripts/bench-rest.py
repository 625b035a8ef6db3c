#!/usr/bin/env python3
"""Benchmark: features cost nothing at rest — start-up and a one-shot with extensions configured.

A scratch HOME is filled with what a heavy user has configured: 50 custom commands (some in
namespaces, `.md` and `.toml`), 20 skills, 10 subagent definitions and hooks (PreToolUse /
PostToolUse with matchers, PreCompact: none of them fires in these runs, so what is measured is
the cost of having them), and for the interactive case 3 MCP stdio servers (a small Python
server written by this script, answering `initialize` at once). Another scratch HOME has
nothing. Both run against the same project (a `.git` folder) and, interleaved in the same run:

1. Interactive start (as scripts/bench-startup.py measures it): launch to the prompt on the
   screen of a private tmux server, and qcode's first frame read from a pty. With nothing vs
   with everything (MCP servers included). Target: within 5 ms of the time with none.
2. Headless one-shot `qcode -p go` against the mock model (crates/qcode-test-support's
   `mock_serve`, 2,000 tokens) with commands, skills, agents and hooks (no MCP servers), vs
   with nothing and vs `curl -N` reading the same stream: wall, CPU, peak RSS. Target: within
   1.1x of curl's wall time.

With `--before PATH` the same cases also run that binary (rows "qcode (before)"), interleaved.
Nothing passes or fails: it prints medians and ratios (and writes them with `--json PATH`).

Usage: scripts/bench-rest.py [--runs 10] [--quick] [--qcode PATH] [--before PATH] [--mock PATH] [--json PATH]
Build first: cargo build --release && cargo build --release -p qcode-test-support --example mock_serve
Needs tmux, curl and GNU time (/usr/bin/time).
"""
import argparse, importlib.util, json, os, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))


def load(name):
    """One of the sibling benchmark scripts as a module (their file names have dashes)."""
    spec = importlib.util.spec_from_file_location(name.replace("-", "_"), os.path.join(ROOT, "scripts", name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


startup = load("bench-startup")  # tmux_time, pty_time, qcode_first_frame, clean_env, Tmux, QCODE_READY
mcp = load("bench-mcp")          # SLOW_SERVER: a stdio MCP server answering initialize after N s

COMMANDS, SKILLS, AGENTS, MCP_SERVERS = 50, 20, 10, 3


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def populate(qcode_home, server_script, with_mcp):
    """The heavy user's configuration under `qcode_home` (~/.qcode)."""
    for i in range(COMMANDS):
        if i % 5 == 4:
            write(os.path.join(qcode_home, "commands", f"cmd{i}.toml"),
                  f'description = "Command {i}"\nprompt = """Do task {i} with {{{{args}}}}."""\n')
        else:
            sub = os.path.join("ns", f"group{i % 3}") if i % 2 else ""
            write(os.path.join(qcode_home, "commands", sub, f"cmd{i}.md"),
                  f"---\ndescription: Command {i}, a reusable prompt\nargument-hint: <path>\n---\n"
                  f"Review @{{$1}} for problem {i} and report only real issues.\n" + "Context line.\n" * 20)
    for i in range(SKILLS):
        write(os.path.join(qcode_home, "skills", f"skill{i}", "SKILL.md"),
              f"---\nname: skill{i}\ndescription: Skill {i}: does one specific kind of job well.\n"
              f"allowed-tools: read_file, grep_search\n---\n# Skill {i}\n" + "Step by step.\n" * 40)
        write(os.path.join(qcode_home, "skills", f"skill{i}", "scripts", "run.sh"), "#!/bin/sh\necho ok\n")
    for i in range(AGENTS):
        write(os.path.join(qcode_home, "agents", f"agent{i}.md"),
              f"---\nname: agent{i}\ndescription: Agent {i}; use it for reviews of kind {i}.\n"
              f"tools: [read_file, grep_search, glob]\n---\nYou are agent {i}. " + "Be careful. " * 50 + "\n")
    hook = lambda: [{"type": "command", "command": "true", "timeout": 5}]
    settings = {"hooks": {
        "PreToolUse": [{"matcher": "run_shell_command|write_file", "hooks": hook()},
                       {"matcher": "edit", "hooks": hook()}],
        "PostToolUse": [{"matcher": "write_file", "hooks": hook()}],
        "PreCompact": [{"hooks": hook()}],
    }}
    if with_mcp:
        settings["mcpServers"] = {f"srv{i}": {"command": sys.executable, "args": [server_script, "0"]}
                                  for i in range(MCP_SERVERS)}
    write(os.path.join(qcode_home, "settings.json"), json.dumps(settings, indent=2))


def measure(argv, env, cwd):
    """Wall time, CPU time (user+sys, wait4 on a GNU time wrapper) and peak RSS (GNU time's %M)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        wrapped = ["/usr/bin/time", "-o", tf.name, "-f", "%M"] + argv
        start = time.perf_counter()
        p = subprocess.Popen(wrapped, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, env=env, cwd=cwd)
        err = p.stderr.read()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - start
        p.stderr.close()
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{argv[0]} failed ({status}): {err.decode(errors='replace')}")
        max_kb = int(tf.read().split()[-1])
    return wall, ru.ru_utime + ru.ru_stime, max_kb / 1024.0


def med(samples):
    return statistics.median(samples) * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="3 runs, a few seconds")
    ap.add_argument("--tokens", type=int, default=2000)
    ap.add_argument("--qcode", default=os.path.join(TARGET, "release", "qcode"))
    ap.add_argument("--before", help="a baseline qcode binary measured in the same run")
    ap.add_argument("--mock", default=os.path.join(TARGET, "release", "examples", "mock_serve"))
    ap.add_argument("--json", help="write the figures as JSON rows to this file")
    a = ap.parse_args()
    runs = 3 if a.quick else a.runs
    if runs < 1:
        sys.exit("--runs must be at least 1")
    binaries = {"qcode": a.qcode}
    if a.before:
        binaries["qcode (before)"] = a.before
    for path in (*binaries.values(), a.mock):
        if not os.path.exists(path):
            sys.exit(f"missing {path}; build with: cargo build --release && "
                     "cargo build --release -p qcode-test-support --example mock_serve")
    for tool in ("tmux", "curl", "/usr/bin/time"):
        if shutil.which(tool) is None:
            sys.exit(f"`{tool}` is not available")
    binaries = {k: os.path.abspath(v) for k, v in binaries.items()}

    tmp = tempfile.mkdtemp(prefix="qcode-bench-rest-")
    tmux = startup.Tmux()
    mock = subprocess.Popen([a.mock, "--tokens", str(a.tokens)], stdout=subprocess.PIPE, text=True)
    url = mock.stdout.readline().strip()
    try:
        server_script = os.path.join(tmp, "mcp_server.py")
        write(server_script, mcp.SLOW_SERVER)
        project = os.path.join(tmp, "project")
        os.makedirs(os.path.join(project, ".git"))
        homes = {}
        for label, populated, with_mcp in (("none", False, False), ("extensions", True, False),
                                           ("everything", True, True)):
            home = os.path.join(tmp, "home-" + label)
            os.makedirs(os.path.join(home, ".qcode"))
            if populated:
                populate(os.path.join(home, ".qcode"), server_script, with_mcp)
            homes[label] = home
        env = {label: startup.clean_env(home) for label, home in homes.items()}
        headless = {label: dict(e, OPENAI_BASE_URL=url) for label, e in env.items()}
        body = json.dumps({"model": "bench-model", "stream": True, "stream_options": {"include_usage": True},
                           "messages": [{"role": "user", "content": "go"}]})
        curl = ["curl", "-sS", "-N", "-X", "POST", f"{url}/chat/completions", "-H", "Content-Type: application/json",
                "-H", "Authorization: Bearer bench", "-d", body]

        # Warm-up: page cache, the tmux client, the first connection; and a check that the
        # configured extensions are really loaded (an unread folder would measure nothing).
        for name, qcode in binaries.items():
            for label in ("none", "everything"):
                startup.tmux_time(tmux, f"warm{label}", [qcode], env[label], project, startup.QCODE_READY)
            check = subprocess.run([qcode, "agents", "list"], env=env["extensions"], cwd=project,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if f"agent{AGENTS - 1}" not in check.stdout:
                sys.exit(f"{qcode} does not see the generated agents:\n{check.stdout}")
            measure([qcode, "-p", "go"], headless["extensions"], project)
        measure(curl, headless["none"], project)

        tm = {(n, l): [] for n in binaries for l in ("none", "everything")}
        pt = {k: [] for k in tm}
        shot = {(n, l): [] for n in binaries for l in ("none", "extensions")}
        curl_s = []
        for i in range(runs):
            # Interleaved, so drift on the shared machine hits every variant alike.
            curl_s.append(measure(curl, headless["none"], project))
            for name, qcode in binaries.items():
                # The one-shots first: the interactive sessions' MCP servers are gone by then.
                for label in ("none", "extensions"):
                    shot[name, label].append(measure([qcode, "-p", "go"], headless[label], project))
                for label in ("none", "everything"):
                    tm[name, label].append(startup.tmux_time(tmux, f"r{i}{label}", [qcode], env[label], project,
                                                             startup.QCODE_READY))
                    mcp.reap(tmp, [])
                    pt[name, label].append(startup.pty_time([qcode], env[label], project, startup.qcode_first_frame))
                    mcp.reap(tmp, [])
    finally:
        tmux.close()
        mock.kill()
        mock.wait()
        mcp.reap(tmp, [])
        shutil.rmtree(tmp, ignore_errors=True)

    rows = []

    def row(measure_id, case, subject, value, unit, better="lower", baseline=None):
        r = {"measure": measure_id, "case": case, "subject": subject, "value": round(value, 3),
             "unit": unit, "better": better}
        if baseline:
            r["baseline"] = baseline
        rows.append(r)

    configured = f"{COMMANDS} commands, {SKILLS} skills, {AGENTS} agents, hooks, {MCP_SERVERS} MCP servers"
    print(f"features at rest, {runs} runs, medians (ms); configured: {configured}")
    print(f"{'':<30}{'program':>16}{'none':>9}{'all':>9}{'extra':>9}")
    for what, data, mid in (("prompt on screen (tmux)", tm, "rest_prompt_drawn"),
                            ("first frame (pty)", pt, "rest_first_frame")):
        for name in binaries:
            none, every = med(data[name, "none"]), med(data[name, "everything"])
            print(f"  {what:<28}{name:>16}{none:9.1f}{every:9.1f}{every - none:9.1f}")
            base = "qcode (before)" if name == "qcode" and a.before else None
            row(mid, "nothing configured", name, none, "ms")
            row(mid, configured, name, every, "ms")
            row(mid + "_extra", configured, name, every - none, "ms", baseline=base)
    print(f"target: the prompt with everything configured within 5 ms of the time with none")

    c = [statistics.median(s[i] for s in curl_s) for i in range(3)]
    print()
    print(f"one-shot `-p go`, {a.tokens} tokens (commands, skills, agents, hooks; no MCP servers)")
    print(f"{'program':>16} {'config':>11} {'wall ms':>8} {'cpu ms':>8} {'peak MB':>8} {'wall / curl':>11}")
    print(f"{'curl':>16} {'':>11} {c[0] * 1000:8.1f} {c[1] * 1000:8.1f} {c[2]:8.1f}")
    case = f"{a.tokens:,} tokens"
    row("rest_oneshot_wall", case, "curl", c[0] * 1000, "ms")
    row("rest_oneshot_cpu", case, "curl", c[1] * 1000, "ms")
    for name in binaries:
        for label in ("none", "extensions"):
            q = [statistics.median(s[i] for s in shot[name, label]) for i in range(3)]
            print(f"{name:>16} {label:>11} {q[0] * 1000:8.1f} {q[1] * 1000:8.1f} {q[2]:8.1f} {q[0] / c[0]:10.2f}x")
            subject = name if label == "extensions" else f"{name}, nothing configured"
            row("rest_oneshot_wall", case, subject, q[0] * 1000, "ms", baseline="curl")
            row("rest_oneshot_cpu", case, subject, q[1] * 1000, "ms", baseline="curl")
            row("rest_oneshot_rss", case, subject, q[2], "MiB")
    print("target: with the extensions configured, within 1.1x of curl's wall time")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"bench": "rest", "title": "Features at rest", "rows": rows}, f, indent=1, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    main()
