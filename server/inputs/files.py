"""Local files as inputs: which may be read, what their bytes are, and how big they may be.

A model can be talked into passing any path, so only files inside SEEDANCE_ALLOWED_DIRS (default: the
home folder) are read, never one in a hidden folder (~/.ssh, ~/.aws, ...) or itself hidden. Both rules
are applied to the path as written before the disk is touched, so the answer for ~/.ssh/id_rsa is the
same whether that file exists or not, and again to the resolved path, so a link cannot lead out.
"""

from __future__ import annotations

import hashlib
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


@dataclass(frozen=True)
class LocalFile:
    field: str
    path: Path
    kind: Kind
    content_type: str
    size: int

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


def _relative(path: Path, folders: tuple[Path, ...]) -> Path | None:
    """`path` relative to the first allowed folder holding it, or None when none does."""
    for folder in folders:
        for root in dict.fromkeys((Path(os.path.abspath(folder)), folder.resolve())):
            if path.is_relative_to(root):
                return path.relative_to(root)
    return None


def _check_place(field: str, path: Path, allowed_dirs: tuple[Path, ...]) -> None:
    relative = _relative(path, allowed_dirs)
    if relative is None:
        folders = ", ".join(str(d) for d in allowed_dirs) or "none"
        raise InvalidArguments(
            field,
            f"{path} is outside the folders this server may read ({folders})",
            "move the file into one of them, or have the user add its folder to SEEDANCE_ALLOWED_DIRS",
        )
    if any(part.startswith(".") for part in relative.parts):
        raise InvalidArguments(
            field,
            f"{path} is hidden or inside a hidden folder, which this server never reads",
            "use a file that is not in a hidden folder such as ~/.ssh",
        )


def check_file(field: str, value: str, allowed_dirs: tuple[Path, ...]) -> LocalFile:
    """A readable, allowed, well-formed input file, or InvalidArguments saying what is wrong with it."""
    kind = slot_kind(field)
    raw = local_path(value)
    assert raw is not None
    _check_place(field, Path(os.path.abspath(raw)), allowed_dirs)  # as written: nothing on disk is looked at
    try:
        path = raw.resolve(strict=True)
    except (OSError, RuntimeError):
        raise InvalidArguments(field, f"there is no file at {raw}", "pass the path of an existing file") from None
    _check_place(field, path, allowed_dirs)  # where its links lead
    if not path.is_file():
        raise InvalidArguments(field, f"{path} is not a file", "pass the path of a file")
    with path.open("rb") as handle:
        found = sniff(handle.read(SNIFF_BYTES))
    if found is None or found[0] != kind:
        raise InvalidArguments(field, f"{path.name} is {wrong_format(found)}", f"pass a {ALLOWED_FORMATS[kind]} file")
    size = path.stat().st_size
    if size > MAX_BYTES[kind]:
        raise InvalidArguments(
            field,
            f"{path.name} is {size / MB:.1f} MB, above the {MAX_BYTES[kind] // MB} MB allowed for {NOUN[kind]}",
            f"pass a smaller {kind}",
        )
    return LocalFile(field, path, kind, found[1], size)
