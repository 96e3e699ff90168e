"""The media bounds the hosts document, in one table, so that a call they would refuse costs nothing.

Sources: ModelArk's media limits for Seedance 2.0 (the strictest host that documents them; fal documents
only formats and sizes, and serves the same model). Where hosts differ, the looser documented figure is
used, so that nothing a host takes is refused here.
"""

from __future__ import annotations

from server.catalog import DEFAULT_MODEL, MODEL_SPECS, MODELS, References

# Images: 300-6000 px a side, width/height 0.4-2.5. Pixels follow from the sides: no host documents a
# pixel limit of its own, and 6000 x 6000 surely holds, since no side may be longer.
IMAGE_SIDES = (300, 6000)
ASPECT = (0.4, 2.5)
MAX_PIXELS = IMAGE_SIDES[1] * IMAGE_SIDES[1]


def reference_bounds(model: object) -> References:
    """One model's reference bounds; the default model's where the call names none (a wrong name is refused
    by the schema)."""
    return MODEL_SPECS[model if model in MODELS else DEFAULT_MODEL].references


# A clip as its file is read, before the model's own bounds apply: what some model takes.
_SPANS = {spec.references.clip_seconds: spec for spec in MODEL_SPECS.values()}
ANY_CLIP = (min(low for low, _ in _SPANS), max(high for _, high in _SPANS))
LONGEST_CLIPS = _SPANS[max(_SPANS, key=lambda span: span[1])].name  # the model to suggest for a long clip
EACH_MODEL = "; ".join(
    f"{', '.join(n for n, s in MODEL_SPECS.items() if s.references.clip_seconds == span)}: {span[0]:g} to {span[1]:g} s"
    for span in _SPANS
)
VIDEO_SIDES = (300, 6000)
VIDEO_PIXELS = (409_600, 2_086_876)  # width x height of a reference video (ModelArk; fal says ~480p to ~720p)
FPS = (23.5, 60.5)  # 24-60 fps, with room for 23.976 and 59.94
