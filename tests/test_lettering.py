"""The preview's scene card writes prompts in every script people use, never as missing-glyph boxes."""

from __future__ import annotations

import pytest
from PIL import Image, ImageFont

from server.preview import lettering
from server.preview.pictures import scene_card

SCRIPTS = {
    "Latin with accents": "café ¿qué? — naïve Ångström œuvre",
    "Vietnamese": "Tiếng Việt có dấu",
    "Greek": "Καλημέρα κόσμε, ένα φιλμ",
    "Cyrillic": "Привет, мир! Съёмка фильма",
    "Chinese (simplified)": "你好，世界。一部关于电影的短片",  # noqa: RUF001 (the full-width comma is the point)
    "Chinese (traditional)": "電影藝術與攝影機",
    "Japanese": "こんにちは、カタカナと漢字の映画",
    "Korean": "안녕하세요, 영화 촬영",
}
NOT_A_CHARACTER = "\uffff"  # another noncharacter than the module's own probe: drawn as the missing glyph


def _pixels(font: ImageFont.FreeTypeFont, text: str) -> tuple[tuple[int, int], bytes]:
    mask = font.getmask(text)
    return mask.size, bytes(mask)


@pytest.mark.parametrize("system", [False, True], ids=["bundled fonts only", "with the system's fonts"])
@pytest.mark.parametrize("text", SCRIPTS.values(), ids=SCRIPTS.keys())
def test_every_character_is_drawn_as_a_real_glyph(text: str, system: bool):
    chain = lettering.fonts(40, system)
    drawn = [(font, char) for font, piece in lettering.runs(text, chain) for char in piece]
    assert "".join(char for _, char in drawn) == text  # nothing left out
    for font, char in drawn:
        if char.isspace():
            continue
        pixels = _pixels(font, char)
        assert pixels != _pixels(font, NOT_A_CHARACTER), f"{char!r} is the missing-glyph box in {font.getname()}"
        assert any(pixels[1]), f"{char!r} is blank in {font.getname()}"


def test_emoji_are_left_out_cleanly():
    chain = lettering.fonts(40, system=False)
    assert lettering.drawable("🎬 A film 🎞️ about café ✨", chain) == "A film about café"
    assert all("🎬" not in piece for _, piece in lettering.runs("🎬 x", chain))


def test_a_scene_card_wraps_text_without_spaces_and_stays_inside_the_frame():
    chain = lettering.fonts(40, system=False)
    lines = lettering.wrap("一部关于电影的短片" * 8, chain, 400)
    assert len(lines) > 3 and all(lettering.width_of(line, chain) <= 400 for line in lines)
    card = scene_card("一部关于电影的短片" * 8, (864, 496), seed=3)
    assert card.size == (864, 496) and isinstance(card, Image.Image)
