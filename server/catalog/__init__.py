"""The Seedance lineup as the hosts sell it: the models, what each takes, where each host serves it, and at
what price. Tool schemas, checks, pricing and previews all read this one table (lineup-2026.md)."""

from __future__ import annotations

from server.catalog.enums import (
    ASPECT_RATIOS,
    BITRATE_MODES,
    CODECS,
    DEFAULT_MODEL,
    DRAFT_COMPLETION,
    DURATIONS,
    FIXED_RATIOS,
    MAX_SEED,
    MODELS,
    MODES,
    RESOLUTIONS,
    TASKS,
    TERMINAL_STATUSES,
    AspectRatio,
    BitrateMode,
    Codec,
    Duration,
    GenerationMode,
    JobStatus,
    Mode,
    Model,
    Resolution,
    Task,
)
from server.catalog.frames import FRAME_SIZES, frame_size, nearest_ratio, ratio_of
from server.catalog.models import (
    DRAFT_DAYS,
    DRAFT_RESOLUTION,
    FINAL_RESOLUTION,
    MIN_SECONDS,
    MODEL_SPECS,
    ModelSpec,
    References,
    seconds_range,
)

MAX_SECONDS = max(spec.max_seconds for spec in MODEL_SPECS.values())
MAX_IMAGES = max(spec.references.images for spec in MODEL_SPECS.values())
MAX_VIDEOS = max(spec.references.videos for spec in MODEL_SPECS.values())
MAX_AUDIOS = max(spec.references.audios for spec in MODEL_SPECS.values())

__all__ = [
    "ASPECT_RATIOS",
    "BITRATE_MODES",
    "CODECS",
    "DEFAULT_MODEL",
    "DRAFT_COMPLETION",
    "DRAFT_DAYS",
    "DRAFT_RESOLUTION",
    "DURATIONS",
    "FINAL_RESOLUTION",
    "FIXED_RATIOS",
    "FRAME_SIZES",
    "MAX_AUDIOS",
    "MAX_IMAGES",
    "MAX_SECONDS",
    "MAX_SEED",
    "MAX_VIDEOS",
    "MIN_SECONDS",
    "MODELS",
    "MODEL_SPECS",
    "MODES",
    "RESOLUTIONS",
    "TASKS",
    "TERMINAL_STATUSES",
    "AspectRatio",
    "BitrateMode",
    "Codec",
    "Duration",
    "GenerationMode",
    "JobStatus",
    "Mode",
    "Model",
    "ModelSpec",
    "References",
    "Resolution",
    "Task",
    "frame_size",
    "nearest_ratio",
    "ratio_of",
    "seconds_range",
]
