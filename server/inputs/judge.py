"""One file's bytes judged as the hosts will judge them, whichever way the file came."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from server.inputs.clips import clip_seconds
from server.inputs.formats import Kind


@dataclass(frozen=True)
class Judged:
    """Media judged here but kept nowhere on this machine: a `data:` URI, or a caller's URL."""

    field: str
    kind: Kind
    content_type: str
    size: int | None  # None: a URL whose length its server did not say
    seconds: float | None = None  # a clip's length, when it was read


def judge(field: str, name: str, data: BinaryIO, size: int, kind: Kind) -> float | None:
    """None for a good image, the length of a good clip; InvalidArguments for anything a host would refuse."""
    if kind == "image":
        from server.inputs.pictures import check_picture  # Pillow loads with the first image

        check_picture(field, name, data, size)
        return None
    return clip_seconds(field, name, data, kind)
