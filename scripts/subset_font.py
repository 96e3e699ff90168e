"""Builds the preview's bundled fallback fonts, cut down to the text people write most.

The scene card of an offline preview writes the prompt. Where the machine has fonts for the prompt's
script, they are used; these files are the fallback that ships with the package, so a bare server still
writes Latin with accents, Greek, Cyrillic, Chinese, Japanese and Korean as real glyphs:

- DejaVu Sans (Bitstream Vera licence; DejaVu's changes are public domain): Latin with Vietnamese,
  Greek, Cyrillic, punctuation, currency and arrows. It comes first because Noto Sans CJK places
  Greek accents badly.
- Noto Sans CJK SC (SIL Open Font License 1.1): CJK punctuation, kana, full-width forms, Hangul
  jamo, the hanzi of GB 2312 (6,763, all of simplified Chinese in common use) and of Big5 level 1
  (5,401, traditional), the kanji of JIS X 0208 level 1 (2,965), and KS X 1001's 2,350 Hangul syllables.

Both licences allow subsetting and shipping; each travels with its file (`*.txt`). Run it with
fontTools (pip install fonttools) where Debian's fonts-dejavu-core and fonts-noto-cjk are installed:

    python scripts/subset_font.py
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

FONTS = Path(__file__).resolve().parent.parent / "server" / "preview" / "fonts"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
NOTO_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SC = 2  # the collection's Simplified Chinese member
WESTERN = [
    (0x0020, 0x024F),  # Latin, Latin-1, Latin Extended-A and -B
    (0x0300, 0x036F),  # combining marks
    (0x0370, 0x03FF),  # Greek
    (0x0400, 0x04FF),  # Cyrillic
    (0x1E00, 0x1FFF),  # Latin Extended Additional (Vietnamese), Greek Extended
    (0x2000, 0x206F),  # punctuation: dashes, quotes, ellipsis
    (0x20A0, 0x20CF),  # currency
    (0x2100, 0x214F),  # letterlike symbols
    (0x2190, 0x21FF),  # arrows
]
EAST_ASIAN = [
    (0x0020, 0x007E),  # ASCII, to match the CJK glyphs' weight where the two meet
    (0x3000, 0x30FF),  # CJK punctuation, hiragana, katakana
    (0x3130, 0x318F),  # Hangul compatibility jamo
    (0xFF00, 0xFFEF),  # full-width and half-width forms
]


def _ranges(ranges: list[tuple[int, int]]) -> set[int]:
    return {cp for low, high in ranges for cp in range(low, high + 1)}


def _double_byte(codec: str, leads: range, trails: list[int]) -> set[int]:
    found = set()
    for lead in leads:
        for trail in trails:
            with contextlib.suppress(UnicodeDecodeError):  # an unassigned code
                found.add(ord(bytes([lead, trail]).decode(codec)))
    return found


def east_asian() -> set[int]:
    euc_trails = list(range(0xA1, 0xFF))
    return (
        _ranges(EAST_ASIAN)
        | _double_byte("gb2312", range(0xB0, 0xF8), euc_trails)  # all GB 2312 hanzi
        | _double_byte("euc_jp", range(0xB0, 0xD0), euc_trails)  # JIS X 0208 level 1 kanji
        | _double_byte("euc_kr", range(0xB0, 0xC9), euc_trails)  # KS X 1001 Hangul syllables
        | _double_byte("big5", range(0xA4, 0xC7), list(range(0x40, 0x7F)) + euc_trails)  # Big5 level 1
    )


def cut(font: TTFont, code_points: set[int], out: Path) -> None:
    options = subset.Options()
    options.name_IDs = ["*"]  # keep the copyright and licence records
    # fontTools' default features (marks placed, kerning) without locl, whose regional alternates double the glyphs
    options.layout_features = [feature for feature in options.layout_features if feature != "locl"]
    options.hinting = False  # drawn large on a video frame, hints buy nothing
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=code_points)
    subsetter.subset(font)
    font.save(out)
    print(f"{out.name}: {out.stat().st_size:,} bytes, {len(font.getGlyphOrder()):,} glyphs")


def main() -> None:
    FONTS.mkdir(parents=True, exist_ok=True)
    cut(TTFont(DEJAVU), _ranges(WESTERN), FONTS / "DejaVuSans-Subset.ttf")
    cut(TTCollection(NOTO_CJK).fonts[SC], east_asian(), FONTS / "NotoSansCJKsc-Subset.otf")


if __name__ == "__main__":
    main()
