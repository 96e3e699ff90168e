"""Local files as inputs: what their bytes are, and how big they may be.

Which files a caller may name at all is decided in `server.trust`, which opens the file once; from then on
only the bytes read from that open file are used.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from server.errors import InvalidArguments
from server.inputs.formats import (
    ALLOWED_FORMATS,
    MAX_BYTES,
    MB,
    NOUN,
    SNIFF_BYTES,
    Kind,
    slot_kind,
    sniff,
    wrong_format,
)
from server.inputs.judge import judge
from server.trust import Caller, Trust, open_readable


@dataclass(frozen=True)
class LocalFile:
    """A file on this machine as a call's input: its bytes, read once from the file that was checked, so that
    what is judged, uploaded or rendered is that file and no other, whatever its name leads to later."""

    field: str
    name: str  # the file's name, for messages and the upload
    data: bytes = dataclasses.field(repr=False)
    kind: Kind
    content_type: str
    seconds: float | None = None  # a clip's length

    @property
    def size(self) -> int:
        return len(self.data)

    def sha256(self) -> str:
        """The content's hash, which names an upload that can be reused."""
        return hashlib.sha256(self.data).hexdigest()


def local_path(value: str) -> Path | None:
    """The file a slot's value names, or None for a URL or data: URI."""
    if value.startswith("file://"):
        return Path(unquote(urlparse(value).path))
    if value.startswith("~") or Path(value).is_absolute():
        return Path(value).expanduser()
    return None


def check_file(field: str, value: str, trust: Trust, caller: Caller) -> LocalFile:
    """A readable, allowed, well-formed input file, or InvalidArguments saying what is wrong with it."""
    kind = slot_kind(field)
    raw = local_path(value)
    assert raw is not None
    path, handle = open_readable(field, raw, trust, caller)  # which files this caller may name: server.trust
    with handle:
        size = os.fstat(handle.fileno()).st_size
        head = handle.read(SNIFF_BYTES)
        found = sniff(head)
        if found is None or found[0] != kind:
            raise InvalidArguments(
                field, f"{path.name} is {wrong_format(found)}", f"pass a file in {ALLOWED_FORMATS[kind]} format"
            )
        limit = MAX_BYTES[kind]
        data = head + handle.read(limit + 1 - len(head)) if size <= limit else b""
    if size > limit or len(data) > limit:
        shown = max(size, len(data))
        raise InvalidArguments(
            field,
            f"{path.name} is {shown / MB:.1f} MB, above the {limit // MB} MB allowed for {NOUN[kind]}",
            "pass a smaller file",
        )
    seconds = judge(field, raw.name, io.BytesIO(data), len(data), kind)
    return LocalFile(field, path.name, data, kind, found[1], seconds)
