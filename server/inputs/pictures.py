"""Images judged the way the hosts judge them, without ever holding a bomb's pixels.

The header gives the size, which is checked before any pixel is read. That the rest decodes is then shown
at a fixed cost: a PNG's compressed data is inflated in slices and thrown away, a JPEG is decoded at an
eighth of its size, and WebP, GIF and AVIF files are checked to be whole by their own length fields.
"""

from __future__ import annotations

import struct
import warnings
import zlib
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from server.errors import InvalidArguments
from server.inputs.limits import ASPECT, IMAGE_SIDES, MAX_PIXELS

Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own backstop, for every image any part of the server opens
SLICE = 1 << 20  # the most of a PNG's pixel data held at once while it is checked
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # PNG colour type -> samples a pixel
TOO_MANY = f"at most {MAX_PIXELS:,} pixels ({IMAGE_SIDES[1]} px a side)"
FIX = "pass a whole, unbroken image file"


def check_picture(field: str, name: str, data: BinaryIO, size: int, *, whole: bool = True) -> None:
    """Refuse an image the hosts would refuse, or that does not decode; InvalidArguments names the bound.

    With `whole=False`, `data` is only the file's start (a URL's first bytes): its size and shape are
    judged when the header is there, and nothing is refused for what is missing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the size is judged below
        try:
            image = Image.open(data, formats=("JPEG", "PNG", "WEBP", "GIF", "AVIF"))
        except Image.DecompressionBombError:
            raise InvalidArguments(
                field, f"{name} has more pixels than the hosts take", "scale it down", allowed=TOO_MANY
            ) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            if not whole:
                return
            raise InvalidArguments(field, f"{name} does not decode as an image", FIX) from None
    width, height = image.size
    low, high = IMAGE_SIDES
    if width * height > MAX_PIXELS:
        raise InvalidArguments(
            field, f"{name} is {width}x{height}, {width * height:,} pixels", "scale it down", allowed=TOO_MANY
        )
    if min(width, height) < low or max(width, height) > high:
        raise InvalidArguments(
            field,
            f"{name} is {width}x{height}",
            f"scale it so that each side is {low} to {high} px",
            allowed=f"{low} to {high} px a side",
        )
    if not ASPECT[0] <= width / height <= ASPECT[1]:
        raise InvalidArguments(
            field,
            f"{name} is {width}x{height}, a width/height of {width / height:.2f}",
            "crop it nearer to square",
            allowed=f"a width/height from {ASPECT[0]} to {ASPECT[1]} (2:5 to 5:2)",
        )
    if whole and not _whole(image, data, size):
        raise InvalidArguments(field, f"{name} is cut short or broken: its image data does not decode", FIX)


def _whole(image: Image.Image, data: BinaryIO, size: int) -> bool:
    try:
        if image.format == "PNG":
            return _png_decodes(data)
        if image.format == "JPEG":
            image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
            image.load()
            return True
        data.seek(0)
        head = data.read(12)
        if image.format == "WEBP":
            return int.from_bytes(head[4:8], "little") + 8 <= size
        if image.format == "GIF":
            data.seek(size - 1)
            return data.read(1) == b";"
        return _boxes_fill(data, size)
    except (OSError, SyntaxError, ValueError, zlib.error, struct.error):
        return False


def _png_decodes(data: BinaryIO) -> bool:
    """Every chunk's checksum holds, and the pixel data inflates to exactly the size the header gives."""
    data.seek(8)
    inflate, produced, expected = zlib.decompressobj(), 0, None
    while True:
        length, kind = struct.unpack(">I4s", data.read(8))
        body = data.read(length)
        crc = data.read(4)
        if len(body) != length or len(crc) != 4 or zlib.crc32(kind + body) != int.from_bytes(crc, "big"):
            return False
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlaced = struct.unpack(">IIBBBBB", body)
            row = (width * depth * CHANNELS.get(colour, 4) + 7) // 8 + 1
            expected = None if interlaced else height * row
        elif kind == b"IDAT":
            chunk = body
            while chunk:
                produced += len(inflate.decompress(chunk, SLICE))
                chunk = inflate.unconsumed_tail
        elif kind == b"IEND":
            return inflate.eof and (expected is None or produced == expected)


def _boxes_fill(data: BinaryIO, size: int) -> bool:
    """An ISO media file (AVIF) is whole when its top-level boxes add up to its length."""
    offset = 0
    while offset < size:
        data.seek(offset)
        head = data.read(16)
        box = int.from_bytes(head[:4], "big")
        if box == 1:
            box = int.from_bytes(head[8:16], "big")
        elif box == 0:
            return True  # the last box runs to the end
        if box < 8:
            return False
        offset += box
    return offset == size
