"""The stills a preview moves over: a scene card drawn from the prompt, or input images fitted to the frame."""

from __future__ import annotations

import colorsys
import io
import random

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps, UnidentifiedImageError

from server.preview import lettering

LABEL = "OFFLINE PREVIEW - not Seedance output"


def decode(data: bytes) -> Image.Image:
    """An input image as RGB, turned the way its EXIF says."""
    image = Image.open(io.BytesIO(data))
    return ImageOps.exif_transpose(image).convert("RGB")


def size_of(data: bytes) -> tuple[int, int]:
    """An image's width and height from its header; ValueError when the bytes are not an image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError("not a readable image") from exc


def fit(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Fill the frame, cropping the overflow evenly (the picture is never stretched)."""
    return ImageOps.fit(image, size, Image.Resampling.BILINEAR)


def _palette(seed: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    rng = random.Random(seed)
    hue = rng.random()
    top = colorsys.hsv_to_rgb(hue, 0.55, 0.35)
    bottom = colorsys.hsv_to_rgb((hue + 0.12) % 1, 0.65, 0.85)
    return (
        (int(top[0] * 255), int(top[1] * 255), int(top[2] * 255)),
        (int(bottom[0] * 255), int(bottom[1] * 255), int(bottom[2] * 255)),
    )


def scene_card(prompt: str, size: tuple[int, int], seed: int) -> Image.Image:
    """A still for text-to-video: a seeded gradient with soft lights, and the prompt written on it."""
    width, height = size
    top, bottom = _palette(seed)
    gradient = Image.linear_gradient("L").resize((width, height))
    card = Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), gradient)
    rng = random.Random(seed)
    lights = Image.new("L", (width // 8, height // 8), 0)
    draw = ImageDraw.Draw(lights)
    for _ in range(5):
        x, y, r = rng.uniform(0, width / 8), rng.uniform(0, height / 8), rng.uniform(height / 40, height / 14)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=int(rng.uniform(60, 140)))
    glow = lights.filter(ImageFilter.GaussianBlur(height / 60)).resize(size, Image.Resampling.BILINEAR)
    card = Image.composite(Image.new("RGB", size, (255, 244, 220)), card, glow.point(lambda v: v * 0.5))
    draw_text(card, prompt)
    return card


MAX_LINES = 6


def draw_text(card: Image.Image, prompt: str, system_fonts: bool = True) -> None:
    """The prompt, centred, in up to six lines; a longer one ends in an ellipsis."""
    width, height = card.size
    size = max(14, height // 18)
    chain = lettering.fonts(size, system_fonts)
    max_width = width * 0.8
    wrapped = lettering.wrap(prompt, chain, max_width)
    lines = wrapped[:MAX_LINES]
    if len(wrapped) > len(lines):
        while lines[-1] and lettering.width_of(lines[-1] + "...", chain) > max_width:
            lines[-1] = lines[-1][:-1]
        lines[-1] = lines[-1].rstrip() + "..."
    draw = ImageDraw.Draw(card)
    line_height = int(size * 1.4)
    y = (height - line_height * len(lines)) // 2
    for line in lines:
        lettering.draw_line(draw, (width / 2 + 2, y + 2), line, chain, (0, 0, 0))
        lettering.draw_line(draw, (width / 2, y), line, chain, (255, 255, 255))
        y += line_height


def label(width: int, height: int) -> Image.Image:
    """The honest label burnt into every preview frame: RGBA, to paste in the bottom-left corner."""
    size = max(10, height // 36)
    font = ImageFont.load_default(size=size)
    box = font.getbbox(LABEL)
    pad = size // 2
    tag = Image.new("RGBA", (int(box[2]) + 2 * pad, int(box[3]) + 2 * pad), (0, 0, 0, 150))
    ImageDraw.Draw(tag).text((pad, pad), LABEL, font=font, fill=(255, 255, 255, 230))
    return tag


def backdrop(picture: Image.Image) -> Image.Image:
    """A dark blur of the picture, for the space around it when the camera pulls out."""
    small = picture.resize((max(1, picture.width // 16), max(1, picture.height // 16)), Image.Resampling.BILINEAR)
    blurred = small.filter(ImageFilter.GaussianBlur(2)).resize(picture.size, Image.Resampling.BILINEAR)
    return Image.blend(blurred, Image.new("RGB", picture.size, (0, 0, 0)), 0.45)
