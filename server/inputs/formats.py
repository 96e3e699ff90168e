"""What each media slot takes: its kind, the formats the API reads, and the size limit, judged by bytes."""

from __future__ import annotations

from typing import Literal

Which = Literal["first", "last"] | float  # a frame: the first, the last, or the one on screen at a time

Kind = Literal["image", "video", "audio"]
MB = 1024 * 1024
MAX_BYTES: dict[Kind, int] = {"image": 30 * MB, "video": 50 * MB, "audio": 15 * MB}
ALLOWED_FORMATS: dict[Kind, str] = {
    "image": "JPEG, PNG, WebP, GIF or AVIF",
    "video": "MP4 or MOV",
    "audio": "MP3 or WAV",
}
NOUN: dict[Kind, str] = {"image": "an image", "video": "a video", "audio": "an audio clip"}
SLOTS: dict[str, Kind] = {
    "image_url": "image",
    "end_image_url": "image",
    "image_urls": "image",
    "video_urls": "video",
    "audio_urls": "audio",
}
SNIFF_BYTES = 32


def slot_kind(field: str) -> Kind:
    """The kind a field such as `image_urls[2]` takes."""
    return SLOTS[field.split("[")[0]]


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


def wrong_format(found: tuple[Kind, str] | None) -> str:
    """What to call bytes that are not what their slot takes."""
    return "not a format the API takes" if found is None else f"{NOUN[found[0]]} ({found[1]})"
