"""The machine-readable results of one benchmark script (`--json PATH`).

{"bench": "stream", "title": "...", "rows": [{"measure": "oneshot_wall", "case": "2,000 tokens",
 "subject": "qcode", "value": 29.1, "unit": "ms", "baseline": "curl", "better": "lower"}]}

A series (a value per x) is rows with `case` = the x as text and a numeric `x`.
"""
import json, os, re, tempfile

MEASURE_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class ResultsError(Exception):
    """A results file that does not follow the schema (says which row and why)."""


def row(measure, case, subject, value, unit, better="lower", baseline=None, x=None):
    r = {"measure": measure, "case": case, "subject": subject, "value": float(value),
         "unit": unit, "better": better}
    if baseline is not None:
        r["baseline"] = baseline
    if x is not None:
        r["x"] = x
    check_row(r, "new row")
    return r


def check_row(r, where):
    if not isinstance(r, dict):
        raise ResultsError(f"{where}: a row must be an object, not {type(r).__name__}")
    for key in ("measure", "case", "subject", "unit", "better"):
        if not isinstance(r.get(key), str) or not r[key]:
            raise ResultsError(f"{where}: `{key}` must be a non-empty string")
    if not MEASURE_RE.match(r["measure"]):
        raise ResultsError(f"{where}: `measure` {r['measure']!r} is not a snake_case id")
    v = r.get("value")
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or v in (float("inf"), float("-inf")):
        raise ResultsError(f"{where}: `value` must be a finite number, not {v!r}")
    if r["better"] not in ("lower", "higher"):
        raise ResultsError(f"{where}: `better` must be \"lower\" or \"higher\", not {r['better']!r}")
    if "baseline" in r and (not isinstance(r["baseline"], str) or not r["baseline"]):
        raise ResultsError(f"{where}: `baseline` must be a non-empty string when present")
    if "x" in r and (isinstance(r["x"], bool) or not isinstance(r["x"], (int, float))):
        raise ResultsError(f"{where}: `x` must be a number when present")


def check(doc, where):
    if not isinstance(doc, dict):
        raise ResultsError(f"{where}: the top level must be an object")
    for key in ("bench", "title"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            raise ResultsError(f"{where}: `{key}` must be a non-empty string")
    rows = doc.get("rows")
    if not isinstance(rows, list):
        raise ResultsError(f"{where}: `rows` must be a list")
    for i, r in enumerate(rows):
        check_row(r, f"{where}: row {i}")
    return doc


def write(path, bench, title, rows, notes=None):
    """Writes the results atomically (a temporary file in the same directory, then rename)."""
    doc = {"bench": bench, "title": title, "rows": rows}
    if notes:
        doc["notes"] = list(notes)
    check(doc, path)
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".bench-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1, ensure_ascii=False)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise ResultsError(f"{path}: cannot read the results: {e}") from e
    return check(doc, path)
