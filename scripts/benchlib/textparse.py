"""Rows from the text of a script that has no --json yet (only bench-session.py for now).

Used only when the script wrote no JSON: the report then still gets its memory series and its
CPU-per-token figures. It reads the tables the script prints today; when a line does not match,
it returns no rows (and the report says the chart is missing) rather than guessing.
"""
import re

from . import results

BEFORE_MARK = "\n--- the same with the before binary"


def session(text):
    """bench-session.py: "after turn  VmHWM MB …" rows and the "client  tokens/s  CPU µs/token"
    table. The part after the before-binary marker gives the "(before)" rows."""
    rows = []
    parts = text.split(BEFORE_MARK, 1)
    for label, part in zip(("", " (before)"), parts):
        rows += _session_part(part, label)
    return rows


def _session_part(text, label):
    rows = []
    mem = re.search(r"^after turn\s+VmHWM MB\s+VmRSS MB.*\n((?:\s*\d+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s*\n)+)", text, re.M)
    if mem:
        for line in mem.group(1).strip().splitlines():
            turn, hwm, _rss, _t = line.split()
            rows.append(results.row("session_peak_rss", turn, "qcode" + label, float(hwm), "MB", x=int(turn)))
    rate = re.search(r"mock pausing (\d+) µs every (\d+) tokens", text)
    case = f"≈{1_000_000 * int(rate.group(2)) // int(rate.group(1)):,} tokens/s" if rate else "paced stream"
    curl = re.search(r"^\s*curl\s+\d+\s+([\d.]+)\s", text, re.M)
    headless = re.search(r"^\s*-p\s+([\d.]+)\s", text, re.M)
    tui = re.search(r"^\s*qcode\s+\d+\s+([\d.]+)\s", text, re.M)
    if curl and not label:
        rows.append(results.row("tui_cpu_per_token", case, "curl", float(curl.group(1)), "µs/token"))
    if headless:
        rows.append(results.row("tui_cpu_per_token", case, "qcode -p" + label, float(headless.group(1)), "µs/token",
                                baseline="curl" if not label else None))
    if tui:
        rows.append(results.row("tui_cpu_per_token", case, "qcode TUI" + label, float(tui.group(1)), "µs/token",
                                baseline="qcode -p" + label))
    return rows


PARSERS = {"session": session}
