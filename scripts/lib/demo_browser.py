#!/usr/bin/env python3
"""scripts/try's browser: it opens what rolecall gives it as a person's browser would, with a
person who approves every sign-in. rolecall hands a browser a private local page that redirects
at once (so no secret URL stands on a command line); this reads the page, follows its redirect,
and follows the server's redirects in turn (for `sso login`, back to rolecall's loopback
callback). Nothing is printed: the demo's terminal stays rolecall's."""
import html
import re
import sys
import urllib.parse
import urllib.request


def target_of(url):
    """The page a file:// URL redirects to; any other URL as it is."""
    if not url.startswith("file://"):
        return url
    with open(urllib.parse.unquote(url[len("file://"):]), encoding="utf-8") as page:
        found = re.search(r'http-equiv="refresh" content="0; *url=([^"]+)"', page.read())
    if not found:
        sys.exit("demo browser: the page names no redirect")
    return html.unescape(found.group(1))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: demo_browser.py URL")
    url = target_of(sys.argv[1])
    if not url.startswith(("http://127.0.0.1", "http://localhost")):
        sys.exit("demo browser: only the demo's local pages are opened")
    urllib.request.urlopen(url, timeout=30).read()


main()
