"""`data:` URIs as inputs: decoded and judged by their bytes here, so a broken one never reaches a paid host."""

from __future__ import annotations

import base64
import binascii
import io
from urllib.parse import unquote_to_bytes

from server.errors import InvalidArguments
from server.inputs.formats import ALLOWED_FORMATS, MAX_BYTES, MB, NOUN, slot_kind, sniff, wrong_format
from server.inputs.judge import Judged, judge

SHAPE = "data:<type>;base64,<data>"


def decode(uri: str) -> tuple[str, bytes]:
    """The declared media type and the bytes of a data: URI (RFC 2397); ValueError says what is broken."""
    header, comma, payload = uri.removeprefix("data:").partition(",")
    if not comma:
        raise ValueError("it has no comma between its type and its data")
    params = header.split(";")
    media_type = params[0].strip().lower() or "text/plain"  # RFC 2397's default
    if params[-1].strip().lower() != "base64":
        return media_type, unquote_to_bytes(payload)
    try:
        return media_type, base64.b64decode(payload, validate=True)
    except binascii.Error:
        raise ValueError("its base64 data is broken (only A-Z, a-z, 0-9, + and / with = padding are allowed)") from None


def check_data_uri(field: str, uri: str) -> Judged:
    """A data: URI holding a format its slot takes, within the slot's size limit, or InvalidArguments."""
    kind = slot_kind(field)
    limit = MAX_BYTES[kind]
    fix = f"encode a file ({ALLOWED_FORMATS[kind]}) as {SHAPE}, or pass its local path or https:// URL instead"
    too_big = f"above the {limit // MB} MB allowed for {NOUN[kind]}"
    if len(uri) * 3 // 4 > limit + 3 * MB:  # far too big to be worth decoding
        raise InvalidArguments(field, f"the data: URI is far {too_big}", fix)
    try:
        media_type, data = decode(uri)
    except ValueError as exc:
        raise InvalidArguments(field, f"the data: URI cannot be read: {exc}", fix) from None
    if not data:
        raise InvalidArguments(field, "the data: URI is empty", fix)
    found = sniff(data[:32])
    if found is None or found[0] != kind:
        raise InvalidArguments(field, f"the data: URI's bytes are {wrong_format(found)}", fix)
    if not media_type.startswith(f"{kind}/"):
        raise InvalidArguments(field, f"the data: URI says its type is {media_type}, not {kind}/...", fix)
    if len(data) > limit:
        raise InvalidArguments(field, f"the data: URI holds {len(data) / MB:.1f} MB, {too_big}", fix)
    return Judged(field, kind, found[1], len(data), judge(field, "the data: URI", io.BytesIO(data), len(data), kind))
