"""A caller's https:// URL judged by its first bytes, as the host will judge the whole file.

One ranged GET through the guarded client reads at most PROBE_BYTES within PROBE_SECONDS. A file that
fits is judged whole, as a local file is; a longer one by what its start shows: its format, its length
when the server states it, and an image's size and shape from its header. A clip too long to read here
is left to the host. A URL that cannot be read from here (no answer in time, an error status other than
404 and 410) is let through as well: only the host that fetches it knows whether it can.
"""

from __future__ import annotations

import io
import re
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

import anyio
import httpx2

from server.errors import InvalidArguments, echo
from server.inputs.formats import ALLOWED_FORMATS, MAX_BYTES, MB, NOUN, slot_kind, sniff, wrong_format
from server.inputs.judge import Judged, judge
from server.trust import Refused
from server.trust.network import CallerHttp

PROBE_BYTES = 512 * 1024
PROBE_SECONDS = 10.0
GONE = (404, 410)


def _name(url: str) -> str:
    """What to call the file in a message: its name in the URL, or the URL itself."""
    return echo(unquote(PurePosixPath(urlsplit(url).path).name) or url, end=True)


def _total(response: httpx2.Response, read: int, ended: bool) -> int | None:
    """The whole file's length: from Content-Range or Content-Length, or what was read when it ended."""
    if response.status_code == 206:
        match = re.fullmatch(r"bytes \d+-\d+/(\d+)", response.headers.get("content-range", "").strip())
        return int(match[1]) if match else None
    length = response.headers.get("content-length", "")
    return int(length) if length.isdigit() else (read if ended else None)


async def _head(url: str, http: CallerHttp, field: str) -> tuple[bytes, int | None, str] | None:
    """The file's first bytes, its length if known, and its declared type; None when it cannot be read."""
    with anyio.move_on_after(PROBE_SECONDS):
        try:
            async with http.get(url, headers={"Range": f"bytes=0-{PROBE_BYTES - 1}"}) as response:
                if response.status_code in GONE:
                    raise InvalidArguments(
                        field,
                        f"{echo(url)} answered HTTP {response.status_code}: there is no file there",
                        "check the URL, or pass the file's local path instead",
                    )
                if response.status_code not in (200, 206):
                    return None
                head, ended = bytearray(), True
                async for chunk in response.aiter_bytes():
                    head += chunk
                    if len(head) >= PROBE_BYTES:
                        ended = False
                        break
                declared = response.headers.get("content-type", "").split(";")[0].strip()
                return bytes(head[:PROBE_BYTES]), _total(response, len(head), ended), declared
        except (Refused, httpx2.HTTPError, OSError):
            return None  # the up-front check has judged the host already; the rest is the host's to find
    return None


async def check_url(field: str, url: str, http: CallerHttp) -> Judged | None:
    """The URL's file as far as its first bytes show it, or InvalidArguments; None when it was not read."""
    got = await _head(url, http, field)
    if got is None:
        return None
    head, total, declared = got
    kind, name = slot_kind(field), _name(url)
    found = sniff(head[:32])
    if found is None or found[0] != kind:
        said = f" (its server calls it {echo(declared)})" if declared and found is None else ""
        raise InvalidArguments(
            field,
            f"{name} is {wrong_format(found)}{said}",
            f"link the file itself ({ALLOWED_FORMATS[kind]}), not a page that shows it",
        )
    if total is not None and total > MAX_BYTES[kind]:
        raise InvalidArguments(
            field,
            f"{name} holds {total / MB:.1f} MB, above the {MAX_BYTES[kind] // MB} MB allowed for {NOUN[kind]}",
            "link a smaller file",
        )
    if total is not None and total <= len(head):
        return Judged(field, kind, found[1], total, judge(field, name, io.BytesIO(head), total, kind))
    if kind == "image":
        from server.inputs.pictures import check_picture

        check_picture(field, name, io.BytesIO(head), len(head), whole=False)
    return Judged(field, kind, found[1], total)
