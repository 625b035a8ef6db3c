#!/usr/bin/env python3
"""A stand-in for the browser in qcode's `mcp login` tests: run as `BROWSER` with the
authorization URL, it follows the URL and every redirect with a cookie jar, as a browser
would (mcp-server.mjs approves the sign-in at once), so the last redirect reaches qcode's
loopback callback. With BROWSER_LOG set, appends the URLs it visited to that file (one a
line). Usage: browser.py URL"""

import http.cookiejar
import os
import sys
import urllib.error
import urllib.request


class Recorder(urllib.request.HTTPRedirectHandler):
    visited = []

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        Recorder.visited.append(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: browser.py URL")
    Recorder.visited.append(sys.argv[1])
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), Recorder()
    )
    status = "ok"
    try:
        with opener.open(sys.argv[1], timeout=20) as r:
            r.read()
    except urllib.error.HTTPError as e:
        status = f"HTTP {e.code}"
    except urllib.error.URLError as e:
        status = f"error {e}"
    log = os.environ.get("BROWSER_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            for url in Recorder.visited:
                f.write(url + "\n")
            f.write(f"# {status}\n")


main()
