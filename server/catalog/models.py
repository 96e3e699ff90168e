"""What each Seedance model takes, whichever host runs it (lineup-2026.md §1.2, §1.3, §2.1)."""

from __future__ import annotations

from dataclasses import dataclass

from server.catalog.enums import DURATIONS, Duration, Mode, Model, Resolution


@dataclass(frozen=True)
class References:
    """How many reference files of each kind a model takes, and how long a reference clip may be."""

    images: int
    videos: int
    audios: int
    files: int  # all kinds together
    clip_seconds: tuple[float, float]  # one reference video or sound
    total_seconds: float  # all clips of a kind together
    audio_alone: bool  # whether sound may be the only reference


@dataclass(frozen=True)
class ModelSpec:
    name: Model
    label: str
    resolutions: tuple[Resolution, ...]
    max_seconds: int
    references: References
    auto_ratio_only: frozenset[Mode] = frozenset()  # modes whose aspect_ratio can only be "auto"
    optional_prompt: frozenset[Mode] = frozenset()
    draft: bool = False
    tasks: bool = False  # reference-to-video's `task`: reference, editing or extension

    @property
    def durations(self) -> tuple[Duration, ...]:
        return tuple(d for d in DURATIONS if d == "auto" or int(d) <= self.max_seconds)


MIN_SECONDS = 4
# A 2.5 draft: a cheap take at DRAFT_RESOLUTION that the host renders again at FINAL_RESOLUTION, with the
# same prompt, media, length and seed, for DRAFT_DAYS after it was made (lineup-2026.md §1.4, §2.3).
DRAFT_RESOLUTION: Resolution = "480p"
FINAL_RESOLUTION: Resolution = "1080p"
DRAFT_DAYS = 7
REFERENCES_20 = References(9, 3, 3, 12, (2.0, 15.0), 15.0, audio_alone=False)
REFERENCES_25 = References(30, 10, 10, 50, (1.8, 30.2), 30.2, audio_alone=True)

MODEL_SPECS: dict[Model, ModelSpec] = {
    "seedance-2.0": ModelSpec("seedance-2.0", "Seedance 2.0", ("480p", "720p", "1080p", "4k"), 15, REFERENCES_20),
    "seedance-2.0-fast": ModelSpec("seedance-2.0-fast", "Seedance 2.0 fast", ("480p", "720p"), 15, REFERENCES_20),
    "seedance-2.0-mini": ModelSpec("seedance-2.0-mini", "Seedance 2.0 mini", ("480p", "720p"), 15, REFERENCES_20),
    "seedance-2.5": ModelSpec(
        "seedance-2.5",
        "Seedance 2.5",
        ("480p", "720p", "1080p"),
        30,
        REFERENCES_25,
        auto_ratio_only=frozenset({"image-to-video"}),
        optional_prompt=frozenset({"image-to-video", "reference-to-video"}),
        draft=True,
        tasks=True,
    ),
}


def seconds_range(duration: Duration, model: Model = "seedance-2.0") -> tuple[int, int]:
    """The shortest and longest clip a duration can give: `auto` lets the model pick its whole range."""
    if duration == "auto":
        return MIN_SECONDS, MODEL_SPECS[model].max_seconds
    return int(duration), int(duration)
