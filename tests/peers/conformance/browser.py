#!/usr/bin/env python3
"""A stand-in for the browser in the conformance suite's auth scenarios: qcode runs it as
`BROWSER` with the authorization URL. It follows the URL and its redirects (the suite's
authorization server approves at once and redirects to qcode's loopback callback), as a
browser would, and exits. Usage: browser.py URL"""

import sys
import urllib.error
import urllib.request


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: browser.py URL")
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=20) as r:
            r.read()
    except urllib.error.URLError as e:
        sys.exit(f"browser stand-in: {e}")


main()
