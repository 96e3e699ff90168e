"""fal's input schemas for the Seedance endpoints, as lineup-2026.md §1.2-§1.4 copies them, for the fake.

The fake answers a body its endpoint's schema does not take with fal's 422 validation shape, so a test
that reaches the fake has sent only fields and values the endpoint documents. Whether real fal refuses
or ignores an unknown field is not documented; the fake refuses, the stricter of the two.
"""

from __future__ import annotations

from typing import Any

RATIOS = ["auto", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16"]
DURATIONS_20 = ["auto", *map(str, range(4, 16))]
DURATIONS_25 = ["auto", *map(str, range(4, 31))]
CODECS = ["auto", "H264", "H265"]
COMMON = {"prompt", "resolution", "duration", "aspect_ratio", "generate_audio", "codec", "end_user_id"}
MEDIA = {
    "text-to-video": set(),
    "image-to-video": {"image_url", "end_image_url"},
    "reference-to-video": {"image_urls", "video_urls", "audio_urls"},
}


DRAFT_COMPLETE = "bytedance/seedance-2.5/draft/complete"


def schema(endpoint: str) -> dict[str, Any] | None:
    """The fields (and the enums of the enum fields) the endpoint takes; None for one fal does not serve."""
    if endpoint == DRAFT_COMPLETE:  # §1.4: the draft's id, a constant 1080p, and the codec
        return {"fields": {"draft_id", "resolution", "codec"}, "enums": {"resolution": ["1080p"], "codec": CODECS}}
    app, _, mode = endpoint.rpartition("/")
    if mode not in MEDIA:
        return None
    family = {
        "bytedance/seedance-2.0": ("2.0", ["480p", "720p", "1080p", "4k"], True),
        "bytedance/seedance-2.0/us": ("2.0", ["480p", "720p", "1080p", "4k"], True),
        "bytedance/seedance-2.0/fast": ("2.0", ["480p", "720p"], True),
        "bytedance/seedance-2.0/mini": ("2.0", ["480p", "720p"], False),
        "bytedance/seedance-2.5": ("2.5", ["480p", "720p", "1080p"], True),
        "bytedance/seedance-2.5/us": ("2.5", ["480p", "720p", "1080p"], True),
    }.get(app)
    if family is None:
        return None
    version, resolutions, bitrate = family
    fields = COMMON | MEDIA[mode] | ({"bitrate_mode"} if bitrate else set())
    enums: dict[str, list[str]] = {
        "resolution": resolutions,
        "duration": DURATIONS_25 if version == "2.5" else DURATIONS_20,
        "aspect_ratio": ["auto"] if version == "2.5" and mode == "image-to-video" else RATIOS,
        "codec": CODECS,
        "bitrate_mode": ["standard", "high"],
    }
    if version == "2.5":
        fields |= {"draft"} if not app.endswith("/us") else set()
        if mode == "reference-to-video":
            fields |= {"seed", "task"}
            enums["task"] = ["reference", "editing", "extension"]
    return {"fields": fields, "enums": enums}


def violations(endpoint: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """fal's 422 `detail` entries for what `body` breaks; empty when the endpoint takes it."""
    found = schema(endpoint)
    if found is None:
        return []
    out = [
        {"loc": ["body", name], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}
        for name in body
        if name not in found["fields"]
    ]
    for name, allowed in found["enums"].items():
        if name in body and body[name] not in allowed:
            msg = f"Input should be {', '.join(repr(v) for v in allowed)}"
            out.append({"loc": ["body", name], "msg": msg, "type": "literal_error", "input": body[name]})
    return out
