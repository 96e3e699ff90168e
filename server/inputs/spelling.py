"""How a media value must be spelt before anything reads it, so that a malformed one is a sentence naming its
field, not an exception from the URL parser or the file system deep in a call.

A URL is refused here for what no host could fetch: a control character or a space anywhere, more than
MAX_URL_CHARS, a port outside 1 to 65535, a user name or password before its host, or no host at all. A
path is refused for a control character (a NUL ends it early at the system's door) or a length no file
system takes. `data:` URIs are judged by their bytes (`data_uris`), `seedance://` references by their
pattern (`references`).
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from server.errors import Problem
from server.trust.guard import port_of

MAX_URL_CHARS = 8192  # far above any real media link, and below what servers and proxies take in a request line
MAX_PATH_CHARS = 4096  # PATH_MAX on Linux; no path the file system takes is longer

URL_FIX = "pass the file's https:// URL exactly as a browser shows it in its address bar, percent-encoded"


URL_CONTROLS = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})  # a URL carries none of these unencoded
PATH_CONTROLS = frozenset({"Cc", "Cs"})  # a file name may hold a joiner or a direction mark, never these


def _control(value: str, categories: frozenset[str]) -> str | None:
    """Where `value` holds a character of these categories, said as a message; None when it holds none."""
    for at, char in enumerate(value):
        if unicodedata.category(char) in categories:
            return f"holds the control character U+{ord(char):04X} at position {at}"
    return None


def url_problem(field: str, url: str) -> Problem | None:
    """What makes an https:// URL one no host could fetch, or None when it is well formed."""
    if len(url) > MAX_URL_CHARS:
        return Problem(
            field,
            f"the URL is {len(url):,} characters long",
            "link the file by a shorter URL",
            f"at most {MAX_URL_CHARS:,} characters",
        )
    if (control := _control(url, URL_CONTROLS)) is not None:
        return Problem(field, f"the URL {control}", URL_FIX)
    if any(char.isspace() for char in url):
        return Problem(field, "the URL holds a space", URL_FIX + " (a space is %20)")
    parts = urlsplit(url)
    if "@" in parts.netloc:
        return Problem(
            field,
            "the URL has a user name or password before its host",
            "link a file that needs no sign-in, or pass it as a data: URI or a local file",
        )
    if not parts.hostname:
        return Problem(field, "the URL names no host", URL_FIX)
    if port_of(parts) is None:
        shown = parts.netloc.rpartition(":")[2][:12]
        return Problem(
            field,
            f"the URL names port {shown}",
            "leave the port out (https is 443), or fix it",
            "a port from 1 to 65535",
        )
    return None


def path_problem(field: str, path: str) -> Problem | None:
    """What makes a local path one no file system could hold, or None."""
    if (control := _control(path, PATH_CONTROLS)) is not None:
        return Problem(field, f"the path {control}", "pass the file's path as it is, without control characters")
    if len(path) > MAX_PATH_CHARS:
        return Problem(
            field,
            f"the path is {len(path):,} characters long",
            "pass a shorter path",
            f"at most {MAX_PATH_CHARS:,} characters",
        )
    return None
