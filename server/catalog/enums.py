"""The values the hosts' schemas take, as unions over every model: each tool schema mirrors these exactly.

Which model takes which of them is in `models`; these are only the words.
"""

from __future__ import annotations

from typing import Literal, get_args

Model = Literal["seedance-2.0", "seedance-2.0-fast", "seedance-2.0-mini", "seedance-2.5"]
GenerationMode = Literal["text-to-video", "image-to-video", "reference-to-video"]
Mode = Literal[GenerationMode, "draft-completion"]  # and a 2.5 draft rendered again at full size (complete_draft)
Resolution = Literal["480p", "720p", "1080p", "4k"]
Duration = Literal[
    "auto", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22",
    "23", "24", "25", "26", "27", "28", "29", "30",
]  # fmt: skip
AspectRatio = Literal["auto", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16"]
Codec = Literal["auto", "H264", "H265"]
BitrateMode = Literal["standard", "high"]
Task = Literal["reference", "editing", "extension"]
JobStatus = Literal["queued", "in_progress", "completed", "failed", "cancelled"]

MODELS: tuple[Model, ...] = get_args(Model)
MODES: tuple[GenerationMode, ...] = get_args(GenerationMode)
DRAFT_COMPLETION: Mode = "draft-completion"
RESOLUTIONS: tuple[Resolution, ...] = get_args(Resolution)
DURATIONS: tuple[Duration, ...] = get_args(Duration)
ASPECT_RATIOS: tuple[AspectRatio, ...] = get_args(AspectRatio)
CODECS: tuple[Codec, ...] = get_args(Codec)
BITRATE_MODES: tuple[BitrateMode, ...] = get_args(BitrateMode)
TASKS: tuple[Task, ...] = get_args(Task)
FIXED_RATIOS: tuple[AspectRatio, ...] = tuple(r for r in ASPECT_RATIOS if r != "auto")
TERMINAL_STATUSES: frozenset[JobStatus] = frozenset({"completed", "failed", "cancelled"})
DEFAULT_MODEL: Model = "seedance-2.0"
MAX_SEED = 2**31 - 1
