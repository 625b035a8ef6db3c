"""Shared pieces of the benchmark scripts in scripts/ and of `scripts/bench`.

- results: the JSON every script writes with `--json PATH` (one schema, merged by `bench all`)
- measure: running a program and reading its wall time, CPU time and peak RSS
- runner: running the scripts of `bench all` and collecting their JSON
- svg, report: the charts and docs/benchmarks.md
- peers, peermock: Qwen Code, Codex CLI and Gemini CLI from npm against one mock model server

Python 3.11 standard library only; nothing here passes or fails on a number.
"""
