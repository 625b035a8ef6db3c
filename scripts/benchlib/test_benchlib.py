"""Self-tests of the benchmark harness (no timings): the results schema, the charts, the
report's ratios, the peers mock's answers, and which options the runner finds in a script.

Run: python3 -m unittest discover -s scripts/benchlib -t scripts
"""
import json, os, sys, tempfile, unittest, urllib.request
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import peermock, report, results, runner, svg, textparse  # noqa: E402

SVG_NS = "{http://www.w3.org/2000/svg}"


class Results(unittest.TestCase):
    def test_row_and_round_trip(self):
        r = results.row("oneshot_wall", "2,000 tokens", "qcode", 29, "ms", baseline="curl")
        self.assertEqual(r["value"], 29.0)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "sub", "r.json")
            results.write(path, "stream", "t", [r])
            self.assertEqual(results.load(path)["rows"], [r])
            self.assertEqual([f for f in os.listdir(os.path.dirname(path))], ["r.json"])

    def test_bad_rows_are_refused_with_the_reason(self):
        cases = [({"measure": "Bad Id"}, "snake_case"), ({"value": "3"}, "finite number"),
                 ({"value": float("nan")}, "finite number"), ({"better": "less"}, "better"),
                 ({"x": "100"}, "`x`"), ({"subject": ""}, "`subject`")]
        good = {"measure": "m", "case": "c", "subject": "s", "value": 1.0, "unit": "ms", "better": "lower"}
        for change, reason in cases:
            with self.assertRaises(results.ResultsError) as e:
                results.check({"bench": "b", "title": "t", "rows": [dict(good, **change)]}, "f.json")
            self.assertIn(reason, str(e.exception))
            self.assertIn("row 0", str(e.exception))

    def test_unreadable_file(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "x.json")
            with open(p, "w") as f:
                f.write("{not json")
            with self.assertRaises(results.ResultsError):
                results.load(p)


class Charts(unittest.TestCase):
    def parse(self, text):
        root = ET.fromstring(text)
        self.assertEqual(root.tag, SVG_NS + "svg")
        self.assertTrue(root.get("viewBox", "").startswith("0 0 "))
        self.assertIsNotNone(root.find(SVG_NS + "title"))
        return root

    def texts(self, root):
        return [t.text for t in root.iter(SVG_NS + "text")]

    def test_bars_log_scale_when_values_span_more_than_30x(self):
        text = svg.bar_chart("One-shot", "ms", [("wall", [("qcode", 29), ("curl", 30), ("Qwen Code", 3100)])])
        root = self.parse(text)
        self.assertTrue(any("log scale" in (t or "") for t in self.texts(root)))
        fills = {r.find(SVG_NS + "title").text.split(":")[0]: r.get("fill")
                 for r in root.iter(SVG_NS + "rect") if r.find(SVG_NS + "title") is not None}
        self.assertEqual(fills["qcode"], svg.QCODE)
        self.assertNotEqual(fills["curl"], svg.QCODE)
        self.assertIn("3,100 ms", self.texts(root))

    def test_bars_linear_when_close(self):
        root = self.parse(svg.bar_chart("x", "ms", [("", [("qcode", 10), ("curl", 12)])]))
        self.assertTrue(any("linear scale" in (t or "") for t in self.texts(root)))

    def test_titles_are_escaped(self):
        root = self.parse(svg.bar_chart("a < b & c", "ms", [("", [("<qcode>", 1), ("curl", 2)])]))
        self.assertEqual(root.find(SVG_NS + "title").text, "a < b & c")

    def test_line_chart(self):
        root = self.parse(svg.line_chart("RSS", "MiB", [("qcode", [(1, 11), (1000, 14)]),
                                                        ("qcode (before)", [(1, 11), (1000, 20)])], "turn"))
        self.assertEqual(len(list(root.iter(SVG_NS + "path"))), 2)

    def test_empty_chart_is_an_error(self):
        with self.assertRaises(ValueError):
            svg.bar_chart("x", "ms", [])


class Report(unittest.TestCase):
    rows = [results.row("oneshot_wall", "2,000 tokens", "curl", 30, "ms"),
            results.row("oneshot_wall", "2,000 tokens", "qcode", 33, "ms", baseline="curl"),
            results.row("oneshot_wall", "2,000 tokens", "qcode (before)", 66, "ms", baseline="curl")]

    def test_ratio_against_the_same_run_baseline(self):
        self.assertAlmostEqual(report.ratio(self.rows, self.rows[1]), 1.1)
        self.assertIsNone(report.ratio(self.rows, self.rows[0]))

    def test_table_has_ratio_and_vs_before(self):
        t = report.measure_table(self.rows, self.rows)
        self.assertIn("| 2,000 tokens | **qcode** | 33.0 ms | 1.10× curl | 0.50× |", t)

    def test_target_table(self):
        t = report.target_table(self.rows)
        self.assertIn("one-shot wall vs curl, 2,000 tokens | ≤ 1.1 × | 1.10×", t)
        self.assertIn("| `--version` wall | ≤ 5 ms | not measured | — |", t)

    def test_charts_and_missing_notes(self):
        with tempfile.TemporaryDirectory() as d:
            made, missing = report.charts(self.rows, d)
            self.assertEqual(made, [])  # no CPU rows: no one-shot chart
            self.assertTrue(any("one-shot" in m for m in missing))


class Mock(unittest.TestCase):
    def post(self, url, path, body):
        req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read().decode()

    def events(self, text):
        return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: {")]

    def test_chat_stream_has_the_tokens(self):
        with peermock.PeerMock(10) as m:
            ev = self.events(self.post(m.url, "/chat/completions", {"stream": True}))
        text = "".join(e["choices"][0]["delta"].get("content", "") for e in ev if e["choices"])
        self.assertEqual(text, "".join(peermock.words(10)))
        self.assertEqual(ev[-1]["usage"]["completion_tokens"], 10)

    def test_tool_rounds_then_the_answer(self):
        tools = [{"type": "function", "function": {"name": "read_file", "parameters": {
            "type": "object", "properties": {"absolute_path": {"type": "string"}}}}}]
        with peermock.PeerMock(5, rounds=2, notes="/w/notes.txt") as m:
            first = self.events(self.post(m.url, "/chat/completions", {"stream": True, "tools": tools}))
            call = first[1]["choices"][0]["delta"]["tool_calls"][0]["function"]
            self.assertEqual((call["name"], json.loads(call["arguments"])), ("read_file", {"absolute_path": "/w/notes.txt"}))
            msgs = [{"role": "tool", "content": "x"}] * 2
            last = self.events(self.post(m.url, "/chat/completions", {"stream": True, "tools": tools, "messages": msgs}))
            self.assertNotIn("tool_calls", json.dumps(last))
            self.assertEqual(m.calls, 1)

    def test_responses_shell_call_for_codex(self):
        tools = [{"type": "function", "name": "shell", "parameters": {
            "type": "object", "properties": {"command": {"type": "array"}}}}]
        with peermock.PeerMock(3, rounds=1, notes="/w/n") as m:
            ev = self.events(self.post(m.url, "/responses", {"tools": tools, "input": []}))
            done = [e for e in ev if e["type"] == "response.output_item.done"][0]["item"]
            self.assertEqual(json.loads(done["arguments"]), {"command": ["cat", "/w/n"]})
            ev = self.events(self.post(m.url, "/responses", {"tools": tools, "input": [{"type": "function_call_output"}]}))
            self.assertEqual(ev[-1]["type"], "response.completed")
            self.assertEqual(ev[-1]["response"]["output"][0]["content"][0]["text"], "".join(peermock.words(3)))

    def test_unknown_endpoint_is_recorded(self):
        with peermock.PeerMock(3) as m:
            with self.assertRaises(urllib.error.HTTPError) as e:
                self.post(m.url, "/embeddings", {})
            self.assertEqual(e.exception.code, 404)
            self.assertEqual(m.unknown, ["POST /v1/embeddings"])


class TextParse(unittest.TestCase):
    TEXT = """phase 1: 20 turns of 200 tokens (mock at full speed)
after turn  VmHWM MB  VmRSS MB  elapsed s
         0      17.2      17.2        0.0
        20      19.6      19.6        1.1
peak RSS growth from start: 2.4 MB

phase 2: 2 turns of 5000 tokens, mock pausing 1000 µs every 5 tokens
client  tokens/s  CPU µs/token  CPU % of a core
  curl      3780          8.61             3.3%
    -p                   17.12                   (qcode -p, same stream, start-up included)
 qcode      3667         26.00             9.5%
"""

    def test_session_rows_and_before(self):
        rows = textparse.session(self.TEXT + textparse.BEFORE_MARK + " (/b/qcode):\n" + self.TEXT.replace("26.00", "40.00"))
        mem = [(r["subject"], r["x"], r["value"]) for r in rows if r["measure"] == "session_peak_rss"]
        self.assertEqual(mem, [("qcode", 0, 17.2), ("qcode", 20, 19.6), ("qcode (before)", 0, 17.2), ("qcode (before)", 20, 19.6)])
        cpt = {r["subject"]: (r["value"], r.get("baseline")) for r in rows if r["measure"] == "tui_cpu_per_token"}
        self.assertEqual(cpt, {"curl": (8.61, None), "qcode -p": (17.12, "curl"), "qcode TUI": (26.0, "qcode -p"),
                               "qcode -p (before)": (17.12, None), "qcode TUI (before)": (40.0, "qcode -p (before)")})
        self.assertEqual({r["case"] for r in rows if r["measure"] == "tui_cpu_per_token"}, {"≈5,000 tokens/s"})

    def test_unknown_text_gives_no_rows(self):
        self.assertEqual(textparse.session("something else entirely\n"), [])


class Runner(unittest.TestCase):
    def test_options_found_in_scripts(self):
        with tempfile.TemporaryDirectory() as d:
            old = runner.SCRIPTS_DIR
            runner.SCRIPTS_DIR = d
            try:
                with open(os.path.join(d, "a.py"), "w") as f:
                    f.write("import argparse\nap = argparse.ArgumentParser()\nap.add_argument('--json')\n"
                            "ap.add_argument('--qcode')\nap.parse_args()\n")
                with open(os.path.join(d, "b.sh"), "w") as f:
                    f.write('while [ $# -gt 0 ]; do case "$1" in\n  --json) shift 2 ;;\n  -h|--help) exit ;;\n'
                            '  --quick) shift ;;\nesac; done\necho --before\n')
                a, b = runner.Script("a", "a.py", "A"), runner.Script("b", "b.sh", "B")
                self.assertEqual([o for o in ("--json", "--qcode", "--quick") if a.supports(o)], ["--json", "--qcode"])
                self.assertEqual([o for o in ("--json", "--quick", "--help", "--before") if b.supports(o)],
                                 ["--json", "--quick", "--help"])
            finally:
                runner.SCRIPTS_DIR = old

    def test_before_rows_relabelled(self):
        doc = {"rows": [results.row("m", "c", "curl", 1, "ms"),
                        results.row("m", "c", "qcode TUI", 2, "ms", baseline="qcode -p")]}
        out = runner._relabel_before(doc)
        self.assertEqual([(r["subject"], r["baseline"]) for r in out], [("qcode TUI (before)", "qcode -p (before)")])


if __name__ == "__main__":
    unittest.main()
