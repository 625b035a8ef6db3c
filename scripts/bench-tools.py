#!/usr/bin/env python3
"""Benchmark: the file tools on large repositories (issue 17, target 3).

On generated trees (deterministic, under a scratch directory):
- `grep_search` vs ripgrep (`rg`) on a --files-file tree (default 50,000), warm and cold
  page cache;
- `glob` vs fd (`fd`/`fdfind`) on the same tree, warm and cold;
- `list_directory` of a 10,000-entry directory;
- `read_file` with offset/limit in a 100 MB file (a window in the middle and at the end), and
  in a 19 MB file (under the 20 MB limit, so read and decoded whole).

The tools run through the real code path (`ToolRegistry::prepare` + `PreparedCall::execute`)
in `crates/qcode-tools/examples/tool_bench.rs`. For grep and glob each run is one process, as
rg and fd are; list_directory and read_file are timed per call inside one process (median of
the calls; CPU from /proc/self/task/*/schedstat, exact under load). Wall times are medians of
--runs runs; CPU times (user+sys of the child) are reported next to them, since the machine may
be shared.

Cold cache: before every cold run the tree's file pages are evicted with
posix_fadvise(POSIX_FADV_DONTNEED) on every file (no root needed; directory entries and inodes
stay cached, so "cold" means file contents read from disk). The method used is printed and put
in the JSON (`cache_method`). `--drop-caches` uses /proc/sys/vm/drop_caches instead when it is
writable (this drops the whole machine's cache, so it is not the default).

`--before PATH` is a `tool_bench` built from the baseline commit: rows with subject
"qcode (before)" measured in the same run. (`qcode -p` end to end is not used here: the mock
model's `--tool-rounds` only calls `read_file` of a small file, without offset or limit.)

Usage: scripts/bench-tools.py [--quick] [--json PATH] [--bench PATH] [--before PATH]
                              [--files N] [--runs N] [--install-peers] [--keep]
Build first: cargo build --release -p qcode-tools --example tool_bench
rg and fd are found on PATH (fd may be called fdfind) or in target/bench-peers/bin;
--install-peers puts them there (Debian packages with `apt-get download` when apt is
available, otherwise `cargo install ripgrep fd-find --root target/bench-peers`).
Nothing passes or fails: it prints numbers and ratios.
"""
import argparse, json, os, random, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
PEERS = os.path.join(ROOT, "target", "bench-peers")
ROWS = []

WORDS = ("fn let struct impl match return self value error result config parse buffer "
         "stream token request session handle option string vector index count").split()


def row(measure, case, subject, value, unit, better="lower", baseline=None, **extra):
    r = {"measure": measure, "case": case, "subject": subject, "value": round(value, 3),
         "unit": unit, "better": better}
    if baseline:
        r["baseline"] = baseline
    r.update(extra)
    ROWS.append(r)


def find_peer(names):
    for name in names:
        for d in [os.path.join(PEERS, "bin"), os.path.join(PEERS, "usr", "bin")]:
            p = os.path.join(d, name)
            if os.access(p, os.X_OK):
                return p
        p = shutil.which(name)
        if p:
            return p
    return None


def install_peers():
    os.makedirs(PEERS, exist_ok=True)
    if shutil.which("apt-get") and shutil.which("dpkg"):
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run(["apt-get", "download", "ripgrep", "fd-find"], cwd=d,
                               capture_output=True, text=True)
            debs = [f for f in os.listdir(d) if f.endswith(".deb")]
            if r.returncode == 0 and len(debs) == 2:
                for f in debs:
                    subprocess.run(["dpkg", "-x", os.path.join(d, f), PEERS], check=True)
                return
            print(f"apt-get download failed ({r.stderr.strip()[:200]}); using cargo install",
                  file=sys.stderr)
    subprocess.run(["cargo", "install", "--locked", "ripgrep", "fd-find", "--root", PEERS],
                   check=True)


def make_tree(base, files, seed=17):
    """A source-like tree: 100 files per directory, two levels, a .gitignore and a .git."""
    rnd = random.Random(seed)
    os.makedirs(os.path.join(base, ".git"), exist_ok=True)
    with open(os.path.join(base, ".gitignore"), "w") as f:
        f.write("*.log\nbuild/\n")
    exts = [".rs", ".py", ".ts", ".md", ".txt"]
    for i in range(files):
        d = os.path.join(base, f"pkg{i // 1000:03d}", f"mod{(i // 100) % 10:02d}")
        if i % 100 == 0:
            os.makedirs(d, exist_ok=True)
        lines = []
        for j in range(rnd.randint(20, 60)):
            lines.append(" ".join(rnd.choice(WORDS) for _ in range(rnd.randint(3, 10))))
            if rnd.random() < 0.004:
                lines.append("// TODO: handle the unusual_case_marker here")
        with open(os.path.join(d, f"file{i:06d}{exts[i % len(exts)]}"), "w") as f:
            f.write("\n".join(lines) + "\n")


def make_dir10k(base, entries=10_000):
    os.makedirs(base, exist_ok=True)
    for i in range(entries):
        if i % 10 == 0:
            os.makedirs(os.path.join(base, f"dir_{i:05d}"), exist_ok=True)
        else:
            with open(os.path.join(base, f"file_{i:05d}.txt"), "w") as f:
                f.write("x")


def make_big_file(path, size):
    block = b"".join(b"%07d the quick brown fox jumps over the lazy dog, lorem ipsum dolor\n" % i
                     for i in range(1000))
    with open(path, "wb") as f:
        n = 0
        while n < size:
            f.write(block)
            n += len(block)
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


def evict(tree):
    """Drops the tree's file pages from the page cache: posix_fadvise(DONTNEED) on each file."""
    for d, dirs, names in os.walk(tree):
        for n in names:
            try:
                fd = os.open(os.path.join(d, n), os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def timed(cmd, cwd=None):
    """Runs cmd with its stdout into a pipe (counted); (wall s, cpu s, lines of output)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd)
    lines = 0
    for line in p.stdout:
        # Result lines: rg's and fd's, and the tool's without its header and blank lines.
        if line.strip() and not line.startswith((b"Found ", b"[showing")):
            lines += 1
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({p.returncode}): {err.decode(errors='replace')[:400]}")
    return wall, ru.ru_utime + ru.ru_stime, lines, err.decode(errors="replace")


def median_runs(cmd, runs, before_each=None):
    walls, cpus, lines = [], [], 0
    for _ in range(runs):
        if before_each:
            before_each()
        w, c, lines, _ = timed(cmd)
        walls.append(w)
        cpus.append(c)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000, lines


def in_process(bench, ws, tool, args, runs):
    """(median wall ms, median cpu ms, output) of `runs` calls inside one tool_bench process."""
    p = subprocess.run([bench, ws, tool, json.dumps(args), str(runs)], capture_output=True,
                       text=True)
    if p.returncode != 0:
        sys.exit(f"tool_bench {tool} failed: {p.stderr[:400]}")
    stats = dict(kv.split("=", 1) for kv in p.stderr.strip().splitlines()[-1].split())
    if stats.get("status") != "success":
        sys.exit(f"tool_bench {tool}: {p.stdout[:400]}")
    return float(stats["median_ms"]), float(stats["cpu_ms"]), p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", default=os.path.join(TARGET, "release", "examples", "tool_bench"))
    ap.add_argument("--before", help="tool_bench built from the baseline commit")
    ap.add_argument("--qcode", help="accepted for `scripts/bench all`; unused (see the docstring)")
    ap.add_argument("--files", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="5,000 files, 20 MB+ file, 3 runs")
    ap.add_argument("--json", help="write the rows here")
    ap.add_argument("--install-peers", action="store_true")
    ap.add_argument("--drop-caches", action="store_true",
                    help="cold runs drop the whole machine's page cache (root) instead")
    ap.add_argument("--scratch", help="where the trees are generated (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the generated trees")
    a = ap.parse_args()
    files, runs, big_mb = a.files, a.runs, 100
    if a.quick:
        files, runs, big_mb = min(files, 5_000), min(runs, 3), 24
    if a.install_peers:
        install_peers()
    rg = find_peer(["rg"])
    fd = find_peer(["fd", "fdfind"])
    for name, path in [("bench", a.bench)] + ([("before", a.before)] if a.before else []):
        if not os.access(path, os.X_OK):
            sys.exit(f"{name} binary not found: {path} (cargo build --release -p qcode-tools "
                     "--example tool_bench)")
    subjects = [("qcode", a.bench)] + ([("qcode (before)", a.before)] if a.before else [])

    cache_method = "posix_fadvise(POSIX_FADV_DONTNEED) on every file"
    cold = lambda: evict(tree)
    if a.drop_caches:
        if os.access("/proc/sys/vm/drop_caches", os.W_OK):
            cache_method, cold = "/proc/sys/vm/drop_caches (whole machine)", drop_caches
        else:
            print("/proc/sys/vm/drop_caches is not writable; using posix_fadvise", file=sys.stderr)

    scratch = a.scratch or tempfile.mkdtemp(prefix="qcode-bench-tools-")
    tree = os.path.join(scratch, f"tree{files}")
    if not os.path.isdir(tree):
        make_tree(tree, files)
    ws = os.path.join(scratch, "ws")
    os.makedirs(ws, exist_ok=True)
    dir10k = os.path.join(ws, "dir10k")
    if not os.path.isdir(dir10k):
        make_dir10k(dir10k)
    big = os.path.join(ws, f"big{big_mb}m.log")
    if not os.path.exists(big):
        make_big_file(big, big_mb * 1024 * 1024)
    with open(big, "rb") as f:
        big_lines = sum(c.count(b"\n") for c in iter(lambda: f.read(1 << 20), b""))
    # Just under the 20 MB limit: the file is read and decoded whole, then the window split out.
    mid = os.path.join(ws, "mid19m.log")
    if not os.path.exists(mid):
        with open(big, "rb") as src, open(mid, "wb") as dst:
            dst.write(src.read(19 * 1024 * 1024))

    ver = lambda p: subprocess.run([p, "--version"], capture_output=True, text=True).stdout \
        .splitlines()[0] if p else "not found"
    print(f"tree: {files} files in {tree}; rg: {ver(rg)}; fd: {ver(fd)}; {os.cpu_count()} cores; "
          f"median of {runs} runs; cold cache: {cache_method}")

    # grep_search vs rg, glob vs fd: one process per run.
    searches = []
    for pat in ["unusual_case_marker", "fn (parse|handle) [a-z]+ result"]:
        qc = lambda b, p=pat: [b, tree, "grep_search", json.dumps({"pattern": p, "limit": 20000})]
        peer = [rg, "--no-require-git", "--hidden", "-g", "!.git", "-n", "--no-heading", pat,
                tree] if rg else None
        searches.append(("grep_vs_rg", f"/{pat}/", qc, "rg", peer))
    qc = lambda b: [b, tree, "glob", json.dumps({"pattern": "**/*.rs"})]
    # The tree has a .git, so fd (which has no --no-require-git before 8.7) applies .gitignore.
    peer = [fd, "--hidden", "--exclude", ".git", "-t", "f", "-e", "rs", ".",
            tree] if fd else None
    searches.append(("glob_vs_fd", "**/*.rs", qc, "fd", peer))

    print(f"\n{'measure':<12} {'case':<34} {'cache':<5} {'subject':<15} {'wall ms':>9} "
          f"{'cpu ms':>8} {'wall×':>7} {'cpu×':>7} {'hits':>7}")
    for measure, case, qc, peer_name, peer in searches:
        for cache in ["warm", "cold"]:
            before_each = cold if cache == "cold" else None
            if cache == "warm":
                timed(qc(a.bench))  # warm the cache
            results = {}
            if peer:
                results[peer_name] = median_runs(peer, runs, before_each)
            for subject, b in subjects:
                results[subject] = median_runs(qc(b), runs, before_each)
            base = results.get(peer_name)
            for subject, (wall, cpu, lines) in results.items():
                cmp = base and subject != peer_name
                ratio = f"{wall / base[0]:.2f}x" if cmp else ""
                cratio = f"{cpu / base[1]:.2f}x" if cmp and base[1] > 0 else ""
                print(f"{measure:<12} {case:<34} {cache:<5} {subject:<15} {wall:9.1f} "
                      f"{cpu:8.1f} {ratio:>7} {cratio:>7} {lines:7d}")
                c = f"{case}, {files} files, {cache} cache"
                bl = peer_name if base and subject != peer_name else None
                row(f"{measure}_wall", c, subject, wall, "ms", baseline=bl,
                    cache_method=cache_method if cache == "cold" else "none")
                row(f"{measure}_cpu", c, subject, cpu, "ms", baseline=bl)

    # list_directory and read_file: per call inside one process.
    calls = [
        ("list_directory", "10,000 entries", {"path": dir10k}),
        ("read_file", f"{big_mb} MB, offset in the middle, limit 200",
         {"file_path": big, "offset": big_lines // 2, "limit": 200}),
        ("read_file", f"{big_mb} MB, offset at the end, limit 200",
         {"file_path": big, "offset": big_lines - 100, "limit": 200}),
        ("read_file", "19 MB (read whole), offset in the middle, limit 200",
         {"file_path": mid, "offset": 130_000, "limit": 200}),
    ]
    print(f"\n{'tool':<15} {'case':<42} {'subject':<15} {'wall ms':>9} {'cpu ms':>8} "
          f"{'ratio':>7}")
    for tool, case, args in calls:
        results, outputs = {}, {}
        for subject, b in subjects:
            in_process(b, ws, tool, args, 2)  # warm
        for subject, b in subjects:
            wall, cpu, out = in_process(b, ws, tool, args, max(runs * 4, 10))
            results[subject], outputs[subject] = (wall, cpu), out
        if len(set(outputs.values())) > 1:
            print(f"  note: {tool} outputs differ between subjects", file=sys.stderr)
        base = results.get("qcode (before)")
        for subject, (wall, cpu) in results.items():
            ratio = f"{cpu / base[1]:.2f}x" if base and subject == "qcode" else ""
            print(f"{tool:<15} {case:<42} {subject:<15} {wall:9.2f} {cpu:8.2f} {ratio:>7}")
            bl = "qcode (before)" if base and subject == "qcode" else None
            row(f"{tool}_wall", case, subject, wall, "ms", baseline=bl)
            row(f"{tool}_cpu", case, subject, cpu, "ms", baseline=bl)

    if a.json:
        with open(a.json, "w") as f:
            json.dump({"bench": "tools", "title": "Large repositories (file tools)",
                       "cache_method": cache_method, "rows": ROWS}, f, indent=1,
                      ensure_ascii=False)
            f.write("\n")
    if not a.keep and not a.scratch:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
