#!/usr/bin/env python3
"""The client command of scenarios with a pre-registered OAuth client (auth/pre-registration):
the suite passes the client's id and secret in MCP_CONFORMANCE_CONTEXT (JSON); this runs
`qcode mcp probe --client-id ID --client-secret-env VAR ARGS…` with the secret in VAR, as a
user with a client registered by their administrator would.
Usage: preregistered.py QCODE [PROBE ARGS…] URL"""

import json
import os
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: preregistered.py QCODE [PROBE ARGS…] URL")
    try:
        context = json.loads(os.environ.get("MCP_CONFORMANCE_CONTEXT", ""))
        client_id = context["client_id"]
    except (ValueError, KeyError, TypeError) as e:
        sys.exit(f"preregistered.py: MCP_CONFORMANCE_CONTEXT has no client_id: {e}")
    qcode, rest = sys.argv[1], sys.argv[2:]
    argv = [qcode, "mcp", "probe", "--client-id", client_id]
    env = dict(os.environ)
    if context.get("client_secret"):
        env["QCODE_CONFORMANCE_CLIENT_SECRET"] = context["client_secret"]
        argv += ["--client-secret-env", "QCODE_CONFORMANCE_CLIENT_SECRET"]
    os.execve(qcode, argv + rest, env)


main()
