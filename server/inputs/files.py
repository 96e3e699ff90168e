"""Local files as inputs: what their bytes are, and how big they may be.

Which files a caller may name at all is decided in `server.trust`, before the file is opened.
"""

from __future__ import annotations

import hashlib
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
from server.trust import Caller, Trust, readable_file


@dataclass(frozen=True)
class LocalFile:
    field: str
    path: Path
    kind: Kind
    content_type: str
    size: int
    seconds: float | None = None  # a clip's length

    def sha256(self) -> str:
        """The content's hash, which names an upload that can be reused; read only when uploading."""
        digest = hashlib.sha256()
        with self.path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(MB), b""):
                digest.update(chunk)
        return digest.hexdigest()


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
    path = readable_file(field, raw, trust, caller)  # which files this caller may name: server.trust
    with path.open("rb") as handle:
        found = sniff(handle.read(SNIFF_BYTES))
    if found is None or found[0] != kind:
        raise InvalidArguments(
            field, f"{path.name} is {wrong_format(found)}", f"pass a file in {ALLOWED_FORMATS[kind]} format"
        )
    size = path.stat().st_size
    if size > MAX_BYTES[kind]:
        raise InvalidArguments(
            field,
            f"{path.name} is {size / MB:.1f} MB, above the {MAX_BYTES[kind] // MB} MB allowed for {NOUN[kind]}",
            "pass a smaller file",
        )
    with path.open("rb") as handle:
        seconds = judge(field, raw.name, handle, size, kind)
    return LocalFile(field, path, kind, found[1], size, seconds)
