"""Running a program and measuring it: wall time, CPU time (user+sys) and peak RSS.

Every script measures its subjects interleaved (one run of each, then the next round), so that
drift on a shared machine hits all of them alike, and reports medians.
"""
import os, resource, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
DEFAULT_QCODE = os.path.join(TARGET, "release", "qcode")
DEFAULT_MOCK = os.path.join(TARGET, "release", "examples", "mock_serve")
BUILD_HINT = "build with: cargo build --release && cargo build --release -p qcode-test-support --example mock_serve"


class MeasureError(Exception):
    """A measured program failed or could not be started (says which and how)."""


def add_common_args(ap, mock=True, before=True):
    """The options every script shares (see scripts/bench --help)."""
    ap.add_argument("--qcode", default=DEFAULT_QCODE, help="the qcode binary to measure")
    if mock:
        ap.add_argument("--mock", default=DEFAULT_MOCK, help="the mock_serve example binary")
    if before:
        ap.add_argument("--before", metavar="PATH",
                        help="also measure this qcode binary in the same run (rows \"qcode (before)\")")
    ap.add_argument("--json", metavar="PATH", help="write the results as JSON (scripts/benchlib/results.py)")
    ap.add_argument("--quick", action="store_true", help="fewer runs: a few seconds to a minute")


def require(*paths):
    for p in paths:
        if p and not os.path.exists(p):
            sys.exit(f"missing {p}; {BUILD_HINT}")


def subjects(a):
    """[(subject name, qcode path)]: qcode, and "qcode (before)" when --before is given."""
    out = [("qcode", os.path.abspath(a.qcode))]
    if getattr(a, "before", None):
        require(a.before)
        out.append(("qcode (before)", os.path.abspath(a.before)))
    return out


def run_measured(argv, env, cwd, stdin_data=None, timeout=300):
    """(wall s, cpu s, peak RSS MiB) of one run; raises MeasureError on a non-zero exit.

    CPU comes from wait4 on a GNU time wrapper (all descendants that were waited for). Peak RSS
    comes from GNU time itself: the largest single process of the tree (ru_maxrss of the
    children); a child forked straight from Python would report Python's own high-water mark."""
    if not os.path.exists("/usr/bin/time"):
        raise MeasureError("/usr/bin/time (GNU time) is needed for peak memory: apt-get install time")
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        cpu0 = children_cpu()
        wrapped = ["/usr/bin/time", "-o", tf.name, "-f", "%M"] + list(argv)
        start = time.perf_counter()
        with open(os.devnull, "wb") as null:
            try:
                p = subprocess.Popen(wrapped, stdout=null, stderr=subprocess.PIPE,
                                     stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
                                     env=env, cwd=cwd)
            except OSError as e:
                raise MeasureError(f"cannot start {argv[0]}: {e}") from e
            try:
                _, err = p.communicate(stdin_data, timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
                raise MeasureError(f"{argv[0]} ran longer than {timeout} s")
            wall = time.perf_counter() - start
        status = p.returncode
        if status != 0:
            tail = err.decode(errors="replace")[-1500:]
            raise MeasureError(f"{' '.join(argv[:3])} exited with {status}: {tail}")
        fields = tf.read().split()
        if not fields:
            raise MeasureError(f"{argv[0]}: GNU time wrote no peak RSS")
        max_kb = int(fields[-1])
    return wall, children_cpu() - cpu0, max_kb / 1024.0


def children_cpu():
    """user+sys seconds of all reaped children so far (cumulative; take differences)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def interleaved(runs, cases, warmup=1):
    """cases: {name: zero-argument callable returning a tuple of numbers}. Runs each `warmup`
    times, then `runs` rounds of one run each; returns {name: tuple of medians}."""
    for _ in range(warmup):
        for f in cases.values():
            f()
    samples = {name: [] for name in cases}
    for _ in range(runs):
        for name, f in cases.items():
            samples[name].append(f())
    return {name: tuple(statistics.median(s[i] for s in xs) for i in range(len(xs[0])))
            for name, xs in samples.items()}


class MockServe:
    """The mock model server (crates/qcode-test-support/examples/mock_serve.rs)."""

    def __init__(self, path, *args):
        try:
            self.p = subprocess.Popen([path, *map(str, args)], stdout=subprocess.PIPE, text=True)
        except OSError as e:
            raise MeasureError(f"cannot start the mock {path}: {e}") from e
        self.url = self.p.stdout.readline().strip()
        if not self.url.startswith("http://"):
            self.close()
            raise MeasureError(f"the mock {path} printed no URL")

    def close(self):
        self.p.kill()
        self.p.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def client_env(home, url):
    return {"PATH": os.environ.get("PATH", ""), "HOME": home, "DO_NOT_TRACK": "1",
            "OPENAI_BASE_URL": url, "OPENAI_API_KEY": "bench", "OPENAI_MODEL": "bench-model"}


def fmt_tokens(n):
    return f"{n:,} tokens"
