"""Parameter types shared by the tools: the API's enums, with descriptions written for a model."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from server.catalog import MAX_SEED, AspectRatio, BitrateMode, Codec, Duration, Model, Resolution, Task
from server.settings import MAX_WAIT_SECONDS

URL_PATTERN = r"^(https://|data:|file://|seedance://|~|/|[A-Za-z]:[\\/])"
# The longest prompt a Seedance host documents (runbase: 20,000 characters). fal documents no limit, and a
# prompt over its unstated one has been seen to fail only at the result, after the wait.
MAX_PROMPT_CHARS = 20_000


def printable(text: str) -> str:
    """Refuse control characters (NUL, escape, ...) and lone surrogates; tabs and line breaks are text."""
    for at, char in enumerate(text):
        if unicodedata.category(char) in ("Cc", "Cs") and char not in "\t\n\r":
            raise PydanticCustomError(
                "control_character",
                "it holds the control character U+{code} at position {at}",
                {"code": f"{ord(char):04X}", "at": at},
            )
    return text


Text = AfterValidator(printable)

Prompt = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_PROMPT_CHARS,
        pattern=r"\S",
        description=(
            "What the video shows: subject, action, camera movement (pan, tilt, dolly, orbit, zoom), lighting, "
            'style and sound. Put spoken dialogue in double quotes, e.g. The man says: "Remember this moment."'
        ),
    ),
    Text,
]
OptionalPrompt = Annotated[
    Prompt | None,
    Field(
        description=(
            "What the video shows and how it moves: subject, action, camera movement, lighting, style and sound; "
            "spoken dialogue in double quotes. Required on the 2.0 models; seedance-2.5 can do without, "
            "following its media alone."
        )
    ),
]
ResolutionParam = Annotated[
    Resolution,
    Field(
        description=(
            "Output resolution; higher costs more. seedance-2.0 takes 480p, 720p, 1080p and 4k (fal and ModelArk; "
            "Runflow up to 1080p); seedance-2.5 480p, 720p and 1080p; seedance-2.0-fast and -mini 480p and 720p."
        )
    ),
]
DurationParam = Annotated[
    Duration,
    Field(
        description=(
            'Length in seconds, as a string: "4" to "15" on the 2.0 models, "4" to "30" on seedance-2.5, or "auto" '
            "to let the model choose (it then bills the length it picks). Cost grows with length; start with "
            '"5" to try a look.'
        )
    ),
]
AspectRatioParam = Annotated[
    AspectRatio,
    Field(
        description=(
            'Frame shape: 16:9 landscape, 9:16 vertical, 1:1 square, 21:9 ultrawide; "auto" lets the model choose '
            "(for animate_image it follows the image)."
        )
    ),
]
GenerateAudio = Annotated[
    bool,
    Field(description="Generate synchronized sound: effects, ambience and lip-synced speech. The price is the same."),
]
Seed = Annotated[
    int | None,
    Field(
        ge=0,
        le=MAX_SEED,
        description=(
            "Fix the random seed (0-2147483647) to repeat a take; omit for a new one. Only where the endpoint takes "
            "one: on ModelArk and Runflow, and on fal only seedance-2.5 with reference_video (fal's 2.0 inputs have "
            "no seed)."
        ),
    ),
]
CodecParam = Annotated[
    Codec | None,
    Field(description='Video codec of the file: "auto", "H264" or "H265". fal only; omit for the host\'s default.'),
]
BitrateModeParam = Annotated[
    BitrateMode | None,
    Field(
        description=(
            '"high" for a higher-quality, larger file; "standard" otherwise. fal only, and not on seedance-2.0-mini; '
            "omit for the host's default."
        )
    ),
]
EndUserId = Annotated[
    Annotated[str, Text] | None,
    Field(description="Your own id for the person the video is made for; some business accounts require it."),
]
TaskParam = Annotated[
    Task | None,
    Field(
        description=(
            'seedance-2.5 only: "reference" (default) makes a new video guided by the references; "editing" edits '
            'the reference video (aspect_ratio and duration must be "auto"); "extension" continues it '
            '(aspect_ratio must be "auto"). Editing and extension need a video in video_urls.'
        )
    ),
]
DraftParam = Annotated[
    bool,
    Field(
        description=(
            "seedance-2.5 only: true makes a cheap 480p draft, priced as 480p whatever `resolution` says. Its "
            "result carries a draft_id; within 7 days complete_draft renders that same take (prompt, media, length, "
            "shape, seed) at 1080p. Use drafts to compare takes before paying for the final one."
        )
    ),
]
ModelParam = Annotated[
    Model,
    Field(
        description=(
            "Which Seedance: seedance-2.0 for the best 2.0 quality (about $0.30 per second at 720p on fal), "
            "seedance-2.0-fast for lower latency at 20% less, seedance-2.0-mini at half the price (480p and 720p), "
            "seedance-2.5 for clips up to 30 s and more references (about $0.46 per second at 720p)."
        )
    ),
]
WaitSeconds = Annotated[
    float | None,
    Field(
        ge=0,
        le=MAX_WAIT_SECONDS,
        description=(
            "How long this call waits for the video before it returns (default: the server's "
            "SEEDANCE_WAIT_SECONDS, 45). A job still running then keeps going and is not an error: call get_job "
            "with its request_id to wait more. 0 returns right after submitting."
        ),
    ),
]


EARLIER = {
    "image": " Or a frame of an earlier job: seedance://jobs/{request_id}/frames/last (or /first, or /2.5 seconds).",
    "video": " Or an earlier job's video: seedance://jobs/{request_id}.",
    "audio": "",
}


def media_url(what: str, kind: Literal["image", "video", "audio"] = "image") -> object:
    """A media field: a public URL, a data: URI, a local file this server checks and uploads, or an earlier job."""
    return Field(
        pattern=URL_PATTERN,
        description=(
            f"{what} A public https:// URL, a data: URI, or a local file path (absolute, ~/..., or file://)."
            + EARLIER[kind]
        ),
    )


ForceNew = Annotated[
    bool,
    Field(
        description=(
            "An identical call (same tool, options and prompt) within the last 10 minutes returns that call's job "
            "instead of paying again, since a retried call usually means the first answer was lost. Set true to "
            "submit anyway, for example for another take of the same prompt."
        )
    ),
]
ConfirmCost = Annotated[
    bool,
    Field(
        description=(
            "Only for clients that cannot ask the user themselves: a job above the server's confirmation "
            "threshold (SEEDANCE_CONFIRM_ABOVE_USD, $1 by default) is refused with its price until it is called "
            "again with confirm_cost=true. Set it only after the user agreed to that price."
        )
    ),
]
