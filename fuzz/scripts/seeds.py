#!/usr/bin/env python3
"""Builds the seed corpora of the fuzz targets from the string literals of the tests.

Usage: fuzz/scripts/seeds.py [OUT_DIR]   (default: fuzz/seeds; one directory per target)

The seeds are the starting point; `cargo fuzz cmin` keeps what adds coverage, and the minimised
corpora under fuzz/corpus/ are what is committed.
"""
import hashlib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

RAW = re.compile(r'r(#*)"(.*?)"\1', re.S)
PLAIN = re.compile(r'(?<![r#\w])b?"((?:[^"\\]|\\.)*)"', re.S)
ESC = {"n": "\n", "r": "\r", "t": "\t", "0": "\0", "\\": "\\", '"': '"', "'": "'"}


def unescape(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        n = s[i + 1] if i + 1 < len(s) else ""
        if n in ESC:
            out.append(ESC[n])
            i += 2
        elif n == "\n":  # line continuation: skip the newline and leading blanks
            i += 2
            while i < len(s) and s[i] in " \t":
                i += 1
        elif n == "u" and s[i + 2 : i + 3] == "{":
            end = s.index("}", i)
            out.append(chr(int(s[i + 3 : end], 16)))
            i = end + 1
        elif n == "x":
            out.append(chr(int(s[i + 2 : i + 4], 16)))
            i += 4
        else:
            out.append(c)
            i += 1
    return "".join(out)


def literals(paths):
    """Every string literal of the files (format! braces un-doubled)."""
    for rel in paths:
        path = os.path.join(ROOT, rel)
        if os.path.isdir(path):
            files = [os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs if f.endswith(".rs")]
        else:
            files = [path]
        for f in sorted(files):
            text = open(f, encoding="utf-8").read()
            for m in RAW.finditer(text):
                yield m.group(2).replace("{{", "{").replace("}}", "}")
            for m in PLAIN.finditer(RAW.sub("", text)):
                try:
                    yield unescape(m.group(1)).replace("{{", "{").replace("}}", "}")
                except (ValueError, IndexError):
                    continue


def save(out, target, items):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    seen = set()
    for item in items:
        data = item if isinstance(item, bytes) else item.encode("utf-8")
        h = hashlib.sha1(data).hexdigest()
        if h in seen or len(data) > 65536:
            continue
        seen.add(h)
        open(os.path.join(d, "seed-" + h[:16]), "wb").write(data)
    print(f"{target}: {len(seen)} seeds")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "fuzz", "seeds")

    # SSE: the chunk JSON of the client's and the mock server's tests, as events and as whole
    # bodies; a first byte of 0 (no cuts) or 3 with three cut points.
    sse_src = ["crates/qcode-client/src/decode_tests.rs", "crates/qcode-client/src/sse.rs",
               "crates/qcode-client/tests/suite", "crates/qcode-test-support/src/mock_model"]
    events = []
    for s in literals(sse_src):
        if '"choices"' in s or '"error"' in s or "data:" in s or "[DONE]" in s:
            events.append(s if "data:" in s else "data: " + s + "\n\n")
    bodies = list(events)
    bodies.append("".join(e for e in events if "tool_calls" in e) + "data: [DONE]\n\n")
    bodies.append("".join(events[:20]))
    bodies.append("event: error\ndata: {\"error\":{\"message\":\"bad key sk-qcodefuzz-0123456789\"}}\n\n")
    seeds = [b"\x00" + b.encode() for b in bodies] + [b"\x03\x40\x80\xc0" + b.encode() for b in bodies]
    save(out, "sse_decode", seeds)

    # Settings: the JSON(C) texts of the config crate's tests.
    cfg = ["crates/qcode-config/src", "crates/qcode-config/tests"]
    settings = [s for s in literals(cfg) if s.lstrip().startswith(("{", "//", "/*"))]
    save(out, "settings", settings + [a + "\0" + b for a, b in zip(settings, settings[1:])])

    # .env: texts with NAME= lines.
    env = [s for s in literals(cfg + ["tests/suite"]) if re.search(r"^\s*(export )?[A-Za-z_]\w*\s*=", s, re.M)]
    save(out, "dotenv", env)

    # Credentials: the auth crate's JSON texts.
    auth = ["crates/qcode-auth/src", "crates/qcode-auth/tests"]
    save(out, "credentials", [s for s in literals(auth) if s.lstrip().startswith("{")])

    # Shell: the approval tests' command lines.
    shell = ["crates/qcode-core/src/approval", "crates/qcode-core/src/approval.rs"]
    save(out, "shell_split", [s for s in literals(shell) if 0 < len(s) < 300])

    # Markdown: the renderer's and the transcript view's texts; first byte is the width - 10.
    md = ["crates/qcode-tui/src/markdown", "crates/qcode-tui/src/transcript"]
    save(out, "markdown", [b"\x46" + s.encode() for s in literals(md) if len(s) > 3])

    # Transcripts: JSON lines of the session crate's tests, joined into files.
    sess = ["crates/qcode-session/src", "crates/qcode-session/tests"]
    lines = [s for s in literals(sess) if s.lstrip().startswith("{") and '"type"' in s]
    # The example transcript of docs/sessions.md (the tests write theirs with SessionWriter).
    doc = open(os.path.join(ROOT, "docs", "sessions.md"), encoding="utf-8").read()
    example = [l for l in doc.splitlines() if l.startswith('{"seq":')]
    lines = example + lines
    headers = [l for l in lines if '"type":"header"' in l]
    files = [l if l.endswith("\n") else l + "\n" for l in lines]
    for h in headers:
        files.append("".join(x if x.endswith("\n") else x + "\n" for x in [h] + [l for l in lines if l != h]))
    files.append("\n".join(example) + "\n")
    save(out, "transcript", files)


if __name__ == "__main__":
    main()
