"""Local files as inputs: which may be read, what their bytes are, and how big they may be.

A model can be talked into passing any path, so only files inside SEEDANCE_ALLOWED_DIRS (default: the
home folder) are read, never one in a hidden folder (~/.ssh, ~/.aws, ...) or itself hidden, and every
file must be, by its bytes rather than its name, a format the API takes, within its size limit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlparse

from server.errors import InvalidArguments

Kind = Literal["image", "video", "audio"]
MB = 1024 * 1024
MAX_BYTES: dict[Kind, int] = {"image": 30 * MB, "video": 50 * MB, "audio": 15 * MB}
ALLOWED_FORMATS: dict[Kind, str] = {
    "image": "JPEG, PNG, WebP, GIF or AVIF",
    "video": "MP4 or MOV",
    "audio": "MP3 or WAV",
}
SLOTS: dict[str, Kind] = {
    "image_url": "image",
    "end_image_url": "image",
    "image_urls": "image",
    "video_urls": "video",
    "audio_urls": "audio",
}


@dataclass(frozen=True)
class LocalFile:
    field: str
    path: Path
    kind: Kind
    content_type: str
    size: int
    sha256: str


def local_path(value: str) -> Path | None:
    """The file a slot's value names, or None for an http(s) URL or data: URI."""
    if value.startswith("file://"):
        return Path(unquote(urlparse(value).path))
    if value.startswith("~") or Path(value).is_absolute():
        return Path(value).expanduser()
    return None


def sniff(head: bytes) -> tuple[Kind, str] | None:
    """The kind and MIME type the first bytes of a file show, or None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "image/webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image", "image/gif"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "image", "image/avif"
        if brand == b"qt  ":
            return "video", "video/quicktime"
        return "video", "video/mp4"
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free"):
        return "video", "video/quicktime"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio", "audio/wav"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio", "audio/mpeg"
    return None


def _inside(path: Path, folder: Path) -> Path | None:
    try:
        return path.relative_to(folder)
    except ValueError:
        return None


def check_file(field: str, value: str, allowed_dirs: tuple[Path, ...]) -> LocalFile:
    """A readable, allowed, well-formed input file, or InvalidArguments saying what is wrong with it."""
    kind = SLOTS[field.split("[")[0]]
    raw = local_path(value)
    assert raw is not None
    try:
        path = raw.resolve(strict=True)
    except (FileNotFoundError, RuntimeError):
        raise InvalidArguments(field, f"there is no file at {raw}", "pass the path of an existing file") from None
    folders = ", ".join(str(d) for d in allowed_dirs) or "none"
    relative = next((r for d in allowed_dirs if (r := _inside(path, d.resolve())) is not None), None)
    if relative is None:
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
    if not path.is_file():
        raise InvalidArguments(field, f"{path} is not a file", "pass the path of a file")
    with path.open("rb") as handle:
        found = sniff(handle.read(32))
    if found is None or found[0] != kind:
        what = "not a format the API takes" if found is None else f"a {found[0]} ({found[1]})"
        raise InvalidArguments(field, f"{path.name} is {what}", f"pass a {ALLOWED_FORMATS[kind]} file")
    size = path.stat().st_size
    if size > MAX_BYTES[kind]:
        raise InvalidArguments(
            field,
            f"{path.name} is {size / MB:.1f} MB, above the {MAX_BYTES[kind] // MB} MB allowed for a {kind}",
            f"pass a smaller {kind}",
        )
    return LocalFile(field, path, kind, found[1], size, _sha256(path))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def local_files(arguments: dict[str, object], allowed_dirs: tuple[Path, ...]) -> list[LocalFile]:
    """Every local file among the request's media slots, checked; videos also against their 50 MB in all."""
    found: list[LocalFile] = []
    for slot in SLOTS:
        value = arguments.get(slot)
        values = value if isinstance(value, list) else [value] if isinstance(value, str) else []
        for index, item in enumerate(values):
            if isinstance(item, str) and local_path(item) is not None:
                field = f"{slot}[{index}]" if isinstance(value, list) else slot
                found.append(check_file(field, item, allowed_dirs))
    video_bytes = sum(f.size for f in found if f.kind == "video")
    if video_bytes > MAX_BYTES["video"]:
        raise InvalidArguments(
            "video_urls", f"the reference videos add up to {video_bytes / MB:.1f} MB, above 50 MB", "pass shorter clips"
        )
    return found
