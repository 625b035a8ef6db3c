"""Running the benchmark scripts of `scripts/bench all` and collecting their JSON.

A script is asked only for the options it has (found in its source: `"--json"`, `--json)`),
so scripts that do not write JSON yet still run: their text is kept for the report.
"""
import os, re, subprocess, sys, tempfile, time

from . import results, textparse
from .measure import ROOT

SCRIPTS_DIR = os.path.join(ROOT, "scripts")


class Script:
    def __init__(self, name, file, title, quick_fallback=(), full_fallback=()):
        self.name, self.file, self.title = name, file, title
        # Arguments for scripts that lack --quick (the same code paths, fewer runs/turns), and
        # for the full run where the script's own defaults are smaller than issue 17 asks.
        self.quick_fallback, self.full_fallback = list(quick_fallback), list(full_fallback)
        self._help = None

    @property
    def path(self):
        return os.path.join(SCRIPTS_DIR, self.file)

    def exists(self):
        return os.path.exists(self.path)

    def supports(self, option):
        """Whether the script has `option`: from `--help` of a Python script (argparse), from
        the source of a shell script (a `--opt)` case arm)."""
        if self._help is None:
            if self.file.endswith(".py"):
                try:
                    p = subprocess.run([sys.executable, self.path, "--help"], stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True, timeout=30, cwd=ROOT)
                    self._help = p.stdout if p.returncode == 0 else ""
                except (OSError, subprocess.TimeoutExpired):
                    self._help = ""
            else:
                with open(self.path, encoding="utf-8") as f:
                    self._help = f.read()
        o = re.escape(option)
        if self.file.endswith(".py"):
            return re.search(rf"(^|[\s\[,]){o}([\s=,\]]|$)", self._help, re.M) is not None
        return re.search(rf"^\s*(\S+\|)?{o}(\|\S+)?\)", self._help, re.M) is not None


CHECKPOINTS_1000 = ",".join(["1"] + [str(i) for i in range(100, 1001, 100)])
SCRIPTS = [
    Script("basics", "bench-basics.py", "Hold the line: --version and binary size"),
    Script("stream", "bench-stream.py", "One-shot streaming and a tool round trip"),
    Script("startup", "bench-startup.py", "Interactive start-up to the prompt"),
    Script("session", "bench-session.py", "Long interactive session",
           quick_fallback=["--turns", "20", "--checkpoints", "1,10,20", "--rate-turns", "2"],
           full_fallback=["--turns", "1000", "--checkpoints", CHECKPOINTS_1000]),
    Script("resume", "bench-resume.py", "Resuming a large session",
           quick_fallback=["--messages", "1000", "--runs", "3"]),
    Script("mcp", "bench-mcp.py", "MCP servers at start-up",
           quick_fallback=["--runs", "3", "--slow", "0.5"]),
    Script("rest", "bench-rest.py", "Features at rest"),
    Script("tools", "bench-tools.py", "Large repositories"),
    Script("sandbox", "bench-sandbox.sh", "The sandbox per shell command"),
    Script("checkpoints", "bench-checkpoints.sh", "Checkpoints per tool call",
           quick_fallback=["1000", "5"]),
]
BY_NAME = {s.name: s for s in SCRIPTS}


class Outcome:
    """What one script run left: its JSON (or None), its text, and a note for the report."""

    def __init__(self, script):
        self.script = script
        self.doc = None
        self.text = ""
        self.notes = []
        self.failed = False
        self.seconds = 0.0


def _relabel_before(doc):
    """Rows of a second run with --qcode BEFORE: qcode subjects become "… (before)"; rows of
    other programs (curl, rg, …) are dropped (the first run has them)."""
    out = []
    for r in doc["rows"]:
        if not r["subject"].startswith("qcode"):
            continue
        r = dict(r, subject=r["subject"] + " (before)")
        if r.get("baseline", "").startswith("qcode"):
            r["baseline"] = r["baseline"] + " (before)"
        out.append(r)
    return out


def _run(argv, log):
    """Runs argv, streaming its output to our stdout and keeping it; returns (rc, text)."""
    print("$ " + " ".join(argv), flush=True)
    try:
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT,
                             stdin=subprocess.DEVNULL, text=True, errors="replace")
    except OSError as e:
        return 127, f"cannot start: {e}\n"
    chunks = []
    for line in p.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        chunks.append(line)
    rc = p.wait()
    text = "".join(chunks)
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write("$ " + " ".join(argv) + "\n" + text)
    return rc, text


def run_script(script, opts, workdir):
    """opts: qcode, mock, before (or None), quick (bool). Returns an Outcome."""
    out = Outcome(script)
    if not script.exists():
        out.notes.append(f"scripts/{script.file} does not exist yet: skipped")
        print(f"== {script.name}: scripts/{script.file} does not exist yet: skipped", flush=True)
        return out
    print(f"== {script.name}: scripts/{script.file}", flush=True)
    interp = ["bash"] if script.file.endswith(".sh") else [sys.executable]
    base = interp + [script.path]
    has_json = script.supports("--json")
    if script.supports("--qcode"):
        base += ["--qcode", opts["qcode"]]
    if script.supports("--mock") and opts.get("mock"):
        base += ["--mock", opts["mock"]]
    if opts["quick"]:
        base += ["--quick"] if script.supports("--quick") else script.quick_fallback
    elif not has_json:
        base += script.full_fallback
    json_path = os.path.join(workdir, f"{script.name}.json")
    argv = list(base)
    if has_json:
        argv += ["--json", json_path]
    before = opts.get("before")
    second = None
    if before:
        if script.supports("--before"):
            argv += ["--before", before]
        elif script.supports("--qcode"):
            second = [a if a != opts["qcode"] else before for a in base]
            if has_json:
                second += ["--json", json_path + ".before"]
        else:
            out.notes.append("the before binary was not measured: this script has neither --before nor --qcode")
    log = os.path.join(workdir, f"{script.name}.log")
    start = time.perf_counter()
    rc, text = _run(argv, log)
    out.text = text
    if rc != 0:
        out.failed = True
        out.notes.append(f"failed (exit code {rc}); its output is in the log")
    elif has_json:
        try:
            out.doc = results.load(json_path)
        except results.ResultsError as e:
            out.failed = True
            out.notes.append(f"its JSON is not valid: {e}")
    else:
        out.notes.append("no JSON yet: its text output is shown as printed")
    if second and not out.failed and not has_json:
        print(f"== {script.name}: the same with the before binary (no --before in this script)", flush=True)
        rc2, text2 = _run(second, log)
        out.text += f"\n--- the same with the before binary ({before}):\n" + text2
        if rc2 != 0:
            out.notes.append(f"the before run failed (exit code {rc2})")
    if out.doc is None and not out.failed and script.name in textparse.PARSERS:
        parsed = textparse.PARSERS[script.name](out.text)
        if parsed:
            out.doc = {"bench": script.name, "title": script.title, "rows": parsed}
            out.notes.append("its figures were read from its text output (scripts/benchlib/textparse.py)")
    if second and out.doc is not None and has_json:
        print(f"== {script.name}: the same with the before binary (no --before in this script)", flush=True)
        rc2, text2 = _run(second, log)
        out.text += text2
        if rc2 != 0:
            out.notes.append(f"the before run failed (exit code {rc2})")
        else:
            try:
                out.doc["rows"] += _relabel_before(results.load(json_path + ".before"))
                out.notes.append("\"(before)\" rows come from a second run of the script right after the first")
            except results.ResultsError as e:
                out.notes.append(f"the before run's JSON is not valid: {e}")
    out.seconds = time.perf_counter() - start
    return out


def scratch_dir():
    return tempfile.mkdtemp(prefix="qcode-bench-")
