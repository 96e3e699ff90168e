"""Writing a prompt on a frame in whatever script it is written in.

Pillow's default font has Latin only, so accents, Greek, Cyrillic, Chinese, Japanese and Korean came out
as empty boxes. Each character is now drawn with the first font that has it: fonts the system already
has (DejaVu, Noto CJK, the macOS and Windows UI and CJK fonts), then the subsets of DejaVu Sans and
Noto Sans CJK that ship with the package (`fonts/`, built by scripts/subset_font.py). What no font has,
emoji among them, is left out, so a missing glyph is never drawn as a box.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from PIL import ImageDraw, ImageFont

FOLDER = Path(__file__).parent / "fonts"
BUNDLED = (FOLDER / "DejaVuSans-Subset.ttf", FOLDER / "NotoSansCJKsc-Subset.otf")
# Tried in order; a font that is missing or unreadable is skipped. (path, index in a collection)
SYSTEM_FONTS: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0),  # Debian, Ubuntu
    ("/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf", 0),  # Fedora
    ("/usr/share/fonts/TTF/DejaVuSans.ttf", 0),  # Arch
    ("/System/Library/Fonts/Helvetica.ttc", 0),  # macOS
    ("C:/Windows/Fonts/segoeui.ttf", 0),  # Windows
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # Debian, Ubuntu: the SC member
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),  # Arch
    ("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc", 2),  # Fedora
    ("/System/Library/Fonts/PingFang.ttc", 0),  # macOS: Chinese
    ("/System/Library/Fonts/ヒラギノ角ゴシック W3.ttc", 0),  # macOS: Japanese
    ("/System/Library/Fonts/AppleSDGothicNeo.ttc", 0),  # macOS: Korean
    ("C:/Windows/Fonts/msyh.ttc", 0),  # Windows: Chinese
    ("C:/Windows/Fonts/YuGothM.ttc", 0),  # Windows: Japanese
    ("C:/Windows/Fonts/malgun.ttf", 0),  # Windows: Korean
)
MISSING = "\U0010fffe"  # a noncharacter: every font draws it as its missing-glyph box


def _load(path: str | Path, index: int, size: int) -> ImageFont.FreeTypeFont | None:
    try:
        return ImageFont.truetype(str(path), size, index=index)
    except OSError:
        return None


@functools.lru_cache(maxsize=8)
def fonts(size: int, system: bool = True) -> tuple[ImageFont.FreeTypeFont, ...]:
    """The fonts to try at `size`, the system's first; `system=False` keeps only the bundled ones."""
    places: list[tuple[str | Path, int]] = [*(SYSTEM_FONTS if system else ()), *((path, 0) for path in BUNDLED)]
    return tuple(font for path, index in places if (font := _load(path, index, size)) is not None)


def _mask(font: ImageFont.FreeTypeFont, char: str) -> tuple[tuple[int, int], bytes]:
    mask = font.getmask(char)
    return mask.size, bytes(mask)


@functools.lru_cache(maxsize=64)
def _missing(font: ImageFont.FreeTypeFont) -> tuple[tuple[int, int], bytes]:
    return _mask(font, MISSING)


@functools.lru_cache(maxsize=65536)
def has_glyph(font: ImageFont.FreeTypeFont, char: str) -> bool:
    """Whether `font` draws `char` as itself rather than as its missing-glyph box."""
    return _mask(font, char) != _missing(font)


def font_for(char: str, chain: tuple[ImageFont.FreeTypeFont, ...]) -> ImageFont.FreeTypeFont | None:
    """The first font of `chain` with a glyph for `char`; None when none has one."""
    if char.isspace():
        return chain[0] if chain else None
    if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
        return None  # controls, joiners and variation selectors are not drawn on their own
    return next((font for font in chain if has_glyph(font, char)), None)


def runs(text: str, chain: tuple[ImageFont.FreeTypeFont, ...]) -> Iterator[tuple[ImageFont.FreeTypeFont, str]]:
    """`text` as stretches that one font draws, with what no font has left out."""
    current: ImageFont.FreeTypeFont | None = None
    piece = ""
    kept = False  # whether the last base character was drawn: its marks go with it, or with it are left out
    for char in unicodedata.normalize("NFC", text):
        if unicodedata.category(char) == "Mn":
            if kept and current is not None and not _selects_variation(char) and has_glyph(current, char):
                piece += char
            continue
        font = font_for(char, chain)
        kept = font is not None
        if font is None:
            continue
        if font is not current and piece:
            assert current is not None
            yield current, piece
            piece = ""
        current, piece = font, piece + char
    if piece and current is not None:
        yield current, piece


def _selects_variation(char: str) -> bool:
    """Variation selectors (emoji or text style) change how a character looks; on their own they are nothing."""
    return "\ufe00" <= char <= "\ufe0f" or "\U000e0100" <= char <= "\U000e01ef"


def drawable(text: str, chain: tuple[ImageFont.FreeTypeFont, ...]) -> str:
    """`text` without the characters no font has, and without the doubled spaces they leave."""
    return " ".join("".join(piece for _, piece in runs(text, chain)).split())


def width_of(text: str, chain: tuple[ImageFont.FreeTypeFont, ...]) -> float:
    return sum(font.getlength(piece) for font, piece in runs(text, chain))


def draw_line(
    draw: ImageDraw.ImageDraw,
    centre: tuple[float, float],
    text: str,
    chain: tuple[ImageFont.FreeTypeFont, ...],
    fill: tuple[int, ...],
) -> None:
    """One line centred on `centre[0]`, its top at `centre[1]`: each stretch in its own font, on one baseline."""
    x = centre[0] - width_of(text, chain) / 2
    baseline = centre[1] + chain[0].getmetrics()[0]
    for font, piece in runs(text, chain):
        draw.text((x, baseline), piece, font=font, fill=fill, anchor="ls")
        x += font.getlength(piece)


def wrap(text: str, chain: tuple[ImageFont.FreeTypeFont, ...], max_width: float) -> list[str]:
    """Lines no wider than `max_width`: broken at spaces, and anywhere in scripts written without them."""
    lines: list[str] = []
    line = ""
    for word in _breakable(drawable(text, chain)):
        candidate = f"{line}{word}" if line else word.lstrip()
        if line and width_of(candidate, chain) > max_width:
            lines.append(line.rstrip())
            line = word.lstrip()
        else:
            line = candidate
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _breakable(text: str) -> Iterator[str]:
    """Units a line may break between: words with their leading space, and single CJK characters."""
    word = ""
    for char in text:
        wide = unicodedata.east_asian_width(char) in ("W", "F")
        if char == " " or wide:
            if word:
                yield word
            word = char if char == " " else ""
            if wide:
                yield char
        else:
            word += char
    if word:
        yield word
