"""docs/benchmarks.md and docs/benchmarks/*.svg from the merged results of one run."""
import datetime, os, platform, re, shutil, subprocess

from . import svg
from .measure import ROOT

TARGETS = [
    # (label, measure, case, subject, kind, limit, unit): kind "value" or "ratio" (vs baseline)
    ("`--version` wall", "version_wall", "--version", "qcode", "value", 5.0, "ms"),
    ("one-shot peak RSS, 2,000 tokens", "oneshot_peak_rss", "2,000 tokens", "qcode", "value", 15.0, "MiB"),
    ("one-shot peak RSS, 20,000 tokens", "oneshot_peak_rss", "20,000 tokens", "qcode", "value", 15.0, "MiB"),
    ("one-shot wall vs curl, 2,000 tokens", "oneshot_wall", "2,000 tokens", "qcode", "ratio", 1.1, "×"),
    ("one-shot wall vs curl, 20,000 tokens", "oneshot_wall", "20,000 tokens", "qcode", "ratio", 1.1, "×"),
    ("stripped release binary", "binary_size_stripped", "qcode", "qcode", "value", 20.0, "MB"),
]


METHOD = [
    "Every figure is the median of several runs; the programs of one measure run interleaved "
    "(one run of each, then the next round) so that load on the shared machine hits all alike.",
    "Wall time from the parent's clock around spawn and exit; CPU time (user + sys) from the "
    "children's rusage; peak memory from GNU time (max RSS of the largest process of the run).",
    "One-shot runs stream from a local mock model server (one token per SSE chunk) to "
    "`/dev/null`; `curl -N` reading the same stream is the floor a client can reach.",
    "Start-up is the time from `tmux new-session` until the prompt is on the captured screen "
    "(polled every ~2 ms, for every program alike).",
    "`(before)` rows are another qcode binary (`--before PATH`) measured in the same run; "
    "“vs before” is value / before-value.",
    "The numbers are never edited by hand; timings are never part of a pass/fail test.",
]


def _cmd(argv):
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    first = p.stdout.strip().splitlines()
    return first[0].strip() if first and p.returncode == 0 else None


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " / ".join(f.read().split()[:3])
    except OSError:
        return None


def machine(opts=None):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "unknown"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    osname = platform.system()
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    osname = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    if opts and opts.get("load_at_start"):
        load = f"{opts['load_at_start']} (1, 5, 15 min, when the run started)"
    else:
        load = f"{loadavg() or 'unknown'} (1, 5, 15 min, when the report was written)"
    return [("CPU", cpu), ("cores", str(os.cpu_count())), ("memory", mem), ("load average", load),
            ("kernel", f"{platform.system()} {platform.release()} {platform.machine()}"), ("OS", osname)]


def versions(opts, peers_versions):
    out = []
    out.append(("qcode", _cmd([opts["qcode"], "--version"]) or "?"))
    if opts.get("before"):
        out.append(("qcode (before)", _cmd([opts["before"], "--version"]) or "?"))
    out.append(("git commit", _cmd(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]) or "?"))
    for name, argv in (("curl", ["curl", "--version"]), ("tmux", ["tmux", "-V"]),
                       ("ripgrep", ["rg", "--version"]), ("fd", ["fd", "--version"]),
                       ("Python", ["python3", "--version"])):
        if shutil.which(argv[0]):
            v = _cmd(argv)
            if v:
                out.append((name, " ".join(v.split()[:2]) if name == "curl" else v))
    out += peers_versions
    return out


def _by_measure(rows):
    groups = {}
    for r in rows:
        groups.setdefault(r["measure"], []).append(r)
    return groups


def _lookup(rows, measure, case, subject):
    for r in rows:
        if r["measure"] == measure and r["case"] == case and r["subject"] == subject:
            return r
    return None


def ratio(rows, r):
    if "baseline" not in r:
        return None
    b = _lookup(rows, r["measure"], r["case"], r["baseline"])
    if b is None or b["value"] <= 0 or r["value"] < 0:
        return None
    return r["value"] / b["value"]


def _num(v):
    return svg.fmt(v)


def measure_table(all_rows, rows):
    has_x = any("x" in r for r in rows)
    before_col = any(_lookup(all_rows, r["measure"], r["case"], r["subject"] + " (before)") for r in rows)
    head = ["case", "program", "value", "× baseline"] + (["vs before"] if before_col else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    if has_x:
        rows = sorted(rows, key=lambda r: (r["subject"], r.get("x", 0)))
    for r in rows:
        q = ratio(all_rows, r)
        rat = f"{q:.2f}× {r['baseline']}" if q is not None else "—"
        cells = [r["case"], ("**qcode**" if r["subject"] == "qcode" else r["subject"]),
                 f"{_num(r['value'])} {r['unit']}", rat]
        if before_col:
            b = _lookup(all_rows, r["measure"], r["case"], r["subject"] + " (before)")
            cells.append(f"{r['value'] / b['value']:.2f}×" if b and b["value"] > 0 and r["value"] > 0 else "—")
        lines.append("| " + " | ".join(cells) + " |")
    better = rows[0]["better"]
    return "\n".join(lines) + f"\n\n({better} is better)\n"


def target_table(rows):
    lines = ["| target | limit | qcode | met |", "|---|---|---|---|"]
    any_row = False
    for label, measure, case, subject, kind, limit, unit in TARGETS:
        r = _lookup(rows, measure, case, subject)
        if r is None:
            lines.append(f"| {label} | ≤ {limit:g} {unit} | not measured | — |")
            continue
        any_row = True
        if kind == "ratio":
            v = ratio(rows, r)
            if v is None:
                lines.append(f"| {label} | ≤ {limit:g}{unit} | no baseline | — |")
                continue
            shown = f"{v:.2f}× ({_num(r['value'])} {r['unit']} vs {_num(_lookup(rows, measure, case, r['baseline'])['value'])})"
        else:
            v = r["value"]
            shown = f"{_num(v)} {r['unit']}"
        lines.append(f"| {label} | ≤ {limit:g} {unit if kind == 'value' else '×'} | {shown} | {'yes' if v <= limit else '**no**'} |")
    return "\n".join(lines) + "\n" if any_row else ""


def _first(rows, measures, case=None):
    for m in measures:
        sel = [r for r in rows if r["measure"] == m and (case is None or r["case"] == case)]
        if sel:
            return m, sel
    return None, []


def _bar(rows, r):
    """(subject, value, note): the note is the ratio to the row's baseline, when it has one."""
    q = ratio(rows, r)
    note = ""
    if q is not None and r["subject"] != r["baseline"]:
        note = f"{q:.2f}× {r['baseline']}" if q < 10 else f"{q:,.0f}× {r['baseline']}"
    return (r["subject"], r["value"], note)


def _groups(rows, sel):
    cases = []
    for r in sel:
        if r["case"] not in cases:
            cases.append(r["case"])
    return [(c, [_bar(rows, r) for r in sel if r["case"] == c]) for c in cases]


def charts(rows, outdir):
    """Writes the SVGs it has data for; returns [(file name, title, alt)] and notes of the missing."""
    made, missing = [], []
    os.makedirs(outdir, exist_ok=True)

    def bar(name, title, measures, subtitle, case=None, groups_fn=None):
        m, sel = _first(rows, measures, case)
        if not sel:
            missing.append(f"{title}: no rows of {' / '.join(measures)} in this run")
            return
        groups = groups_fn(sel) if groups_fn else _groups(rows, sel)
        text = svg.bar_chart(title, sel[0]["unit"], groups, sel[0]["better"], subtitle)
        _write(os.path.join(outdir, name), text)
        made.append((name, title))

    bar("startup.svg", "Start-up to the prompt drawn", ["peers_startup_prompt", "startup_prompt"],
        "launch → prompt on a tmux screen, median; same machine, same run")
    # One-shot: wall and CPU side by side at 2,000 tokens.
    m_w, wall = _first(rows, ["peers_oneshot_wall", "oneshot_wall"], "2,000 tokens")
    m_c, cpu = _first(rows, ["peers_oneshot_cpu", "oneshot_cpu"], "2,000 tokens")
    if wall and cpu:
        groups = [("wall time", [_bar(rows, r) for r in wall]),
                  ("CPU time (user + sys)", [_bar(rows, r) for r in cpu])]
        _write(os.path.join(outdir, "oneshot.svg"),
               svg.bar_chart("One-shot answer of 2,000 tokens", "ms", groups, "lower",
                             "headless run against the same mock stream, median"))
        made.append(("oneshot.svg", "One-shot answer of 2,000 tokens: wall and CPU"))
    else:
        missing.append("one-shot wall and CPU: no rows at 2,000 tokens in this run")
    bar("tool-round-trip.svg", "One tool round trip", ["peers_tool_round_trip", "tool_round_trip"],
        "wall time a read-a-file round trip adds to a one-shot run, median")
    bar("peak-memory.svg", "Peak memory of a one-shot run", ["peers_peak_rss", "oneshot_peak_rss"],
        "largest process of the run (max RSS), 2,000-token answer", case="2,000 tokens")
    # CPU per token: any measure named …cpu_per_token, by rate.
    cpt = sorted({r["measure"] for r in rows if r["measure"].endswith("cpu_per_token")})
    if cpt:
        bar("cpu-per-token.svg", "CPU per streamed token", cpt,
            "interactive TUI vs headless qcode -p vs curl on the same stream")
    else:
        missing.append("CPU per token: no `*cpu_per_token` rows in this run (bench-session.py has no JSON yet?)")
    # Every series (rows with x) gets a line chart.
    series = {}
    for r in rows:
        if "x" in r:
            series.setdefault(r["measure"], []).append(r)
    for measure, sel in sorted(series.items()):
        by_subject = {}
        for r in sel:
            by_subject.setdefault(r["subject"], []).append((r["x"], r["value"]))
        name = f"{measure.replace('_', '-')}.svg"
        title = _series_title(measure)
        _write(os.path.join(outdir, name),
               svg.line_chart(title, sel[0]["unit"], list(by_subject.items()), "turn", sel[0]["better"]))
        made.append((name, title))
    if not series:
        missing.append("memory over a long session: no series rows in this run (bench-session.py has no JSON yet?)")
    return made, missing


MEASURE_TITLES = {
    "version_wall": "`--version` wall time", "binary_size": "Release binary size, as built",
    "binary_size_stripped": "Release binary size, stripped",
    "oneshot_instructions": "Instructions of a one-shot run (callgrind)",
    "version_instructions": "Instructions of `--version` (callgrind)",
    "oneshot_wall": "One-shot wall time", "oneshot_cpu": "One-shot CPU time (user + sys)",
    "oneshot_peak_rss": "One-shot peak memory", "tool_round_trip": "Wall time one tool round trip adds",
    "tool_round_cpu": "CPU time one tool round trip adds",
    "startup_prompt": "Start-up to the prompt on screen (tmux)", "startup_first_frame": "Start-up to the first frame (pty)",
    "session_peak_rss": "Peak memory over the turns of one session", "tui_cpu_per_token": "CPU per streamed token",
    "shell_command_wall": "One shell command, with and without the sandbox", "sandbox_added": "What the sandbox adds per command",
    "peers_version_wall": "`--version` wall time", "peers_startup_prompt": "Start-up to the prompt on screen (tmux)",
    "peers_oneshot_wall": "One-shot wall time, 2,000 tokens", "peers_oneshot_cpu": "One-shot CPU time, 2,000 tokens",
    "peers_peak_rss": "One-shot peak memory (largest process)", "peers_tool_round_trip": "Wall time per tool round trip",
}
SERIES_TITLES = {"session_peak_rss": "Peak memory (VmHWM) over a long interactive session"}


def _series_title(measure):
    if measure in SERIES_TITLES:
        return SERIES_TITLES[measure]
    words = measure.replace("_", " ")
    if "rss" in measure:
        return f"Memory over a long session ({words})"
    return words[0].upper() + words[1:]


def _write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def markdown(outcomes, rows, opts, command, peers_versions, peers_notes, made, missing, svg_rel):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    L = []
    L.append("# Benchmarks")
    L.append("")
    L.append(f"<!-- Generated by `{command}`; do not edit by hand. -->")
    L.append(f"Generated by `{command}` on {now}. Do not edit the numbers by hand: run the command "
             "again (`scripts/bench all --help` lists the options). Every ratio is against a "
             "baseline measured in the same run on the same machine; wall times on a shared "
             "machine are noisy, so each figure is a median of several runs.")
    L.append("")
    L.append("## Machine")
    L.append("")
    L.append("| | |")
    L.append("|---|---|")
    for k, v in machine(opts):
        L.append(f"| {k} | {v} |")
    L.append("")
    L.append("## Versions")
    L.append("")
    L.append("| program | version |")
    L.append("|---|---|")
    for k, v in versions(opts, peers_versions):
        L.append(f"| {k} | {v} |")
    L.append("")
    L.append("## How it measures")
    L.append("")
    for line in METHOD:
        L.append(f"- {line}")
    L.append("")
    tt = target_table(rows)
    if tt:
        L.append("## Hold the line (issue 17, target 5)")
        L.append("")
        L.append(tt)
    if made or missing:
        L.append("## Charts")
        L.append("")
        for name, title in made:
            L.append(f"![{title}]({svg_rel}/{name})")
            L.append("")
        for note in missing:
            L.append(f"- not drawn — {note}")
        if missing:
            L.append("")
    if peers_notes:
        L.append("## How the other assistants were run")
        L.append("")
        for n in peers_notes:
            L.append(f"- {n}")
        L.append("")
    for o in outcomes:
        L.append(f"## {o.script.title} (`{o.script.file}`)")
        L.append("")
        for n in o.notes:
            L.append(f"- {n}")
        if o.notes:
            L.append("")
        if o.doc is not None:
            for n in o.doc.get("notes", []):
                L.append(f"- {n}")
            if o.doc.get("notes"):
                L.append("")
            for measure, sel in _by_measure(o.doc["rows"]).items():
                title = MEASURE_TITLES.get(measure)
                L.append(f"### {title} (`{measure}`)" if title else f"### `{measure}`")
                L.append("")
                L.append(measure_table(rows, sel))
        if o.text.strip() and not o.failed and any("no JSON yet" in n for n in o.notes):
            L.append("```text")
            L.append(_clean(o.text).rstrip())
            L.append("```")
            L.append("")
    return "\n".join(L).rstrip() + "\n"


def _clean(text):
    """Drops terminal control sequences and the home directory from a script's text output."""
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    home = os.path.expanduser("~")
    if home and home != "/":
        text = text.replace(home, "~")
    return text
