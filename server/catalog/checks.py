"""Refuse what the chosen model, on the host that would run it, does not take, before anything is paid.

The tool schemas carry the union of every model's values, so a value can be valid JSON Schema and still
be one that this model refuses: 1080p on fast, "20" seconds on 2.0, a fixed ratio on 2.5's image input,
a `seed` where the endpoint dropped it. Each refusal names what that model takes, and which model would
take the value, so the caller can fix the call in one go. Nothing the caller gave is ever dropped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from server.catalog.enums import MODELS, MODES, Mode, Model
from server.catalog.models import MODEL_SPECS
from server.catalog.offers import HOST_NAMES, OFFERS, OPTIONAL_FIELDS, Offer
from server.errors import Problem

FIELD_WORDS = {
    "seed": "a seed",
    "codec": "a codec",
    "bitrate_mode": "a bitrate mode",
    "draft": "drafts",
    "task": "a task",
}


def _listed(values: Sequence[str]) -> str:
    return ", ".join(json.dumps(v) for v in values)


def offer(host: str, model: Model) -> Offer | None:
    return OFFERS.get(host, {}).get(model)


def _others(host: str, mode: Mode, wanted: Any) -> list[Model]:
    """The models on this host that would take what `wanted` asks of an offer."""
    return [m for m in MODELS if (o := offer(host, m)) is not None and mode in o.modes and wanted(o)]


def _which(models: list[Model]) -> str:
    return f"model {' or '.join(json.dumps(m) for m in models)}" if models else "no model on this host"


def problems(
    host: str, model: Model, mode: Mode, arguments: Mapping[str, Any], *, whole_call: bool = True
) -> list[Problem]:
    """Every value in `arguments` that `model` on `host` would refuse; none when the call can go.

    `whole_call=False` leaves out the prompt and the reference counts, for a price asked without them."""
    spec = MODEL_SPECS[model]
    where = HOST_NAMES.get(host, host)
    found = offer(host, model)
    if found is None:
        sold = [m for m in MODELS if offer(host, m) is not None]
        return [
            Problem(
                "model",
                f"{where} does not sell {spec.label}",
                f"use one of the models {where} sells, or ask the operator for a host that sells {spec.label}",
                f"one of {_listed(sold)}",
            )
        ]
    if mode not in found.modes:
        return []  # the host's own check explains a mode it lacks
    out: list[Problem] = []
    label = f"{spec.label} on {where}" if host != "local" else spec.label
    resolution = arguments.get("resolution")
    if resolution is not None and resolution not in found.resolutions:
        takers = _others(host, mode, lambda o: resolution in o.resolutions)
        out.append(
            Problem(
                "resolution",
                f"{json.dumps(resolution)} is not a resolution {label} renders",
                f"pick one of those, or {_which(takers)} for {resolution}",
                f"for {model}: {_listed(found.resolutions)}",
            )
        )
    duration = arguments.get("duration")
    if duration is not None and duration not in spec.durations:
        takers = [m for m in MODELS if duration in MODEL_SPECS[m].durations]
        out.append(
            Problem(
                "duration",
                f"{json.dumps(duration)} seconds is longer than {spec.label} renders",
                f'pick "auto" or "4" to "{spec.max_seconds}", or {_which(takers)} for {duration} s',
                f'for {model}: "auto", or "4" to "{spec.max_seconds}"',
            )
        )
    ratio = arguments.get("aspect_ratio")
    if ratio not in (None, "auto") and mode in spec.auto_ratio_only:
        out.append(
            Problem(
                "aspect_ratio",
                f"{json.dumps(ratio)}: {spec.label} takes only the image's own shape for image input",
                'pass "auto" (the video follows the image), or another model for a fixed shape',
                f'for {model} {mode}: "auto"',
            )
        )
    for name in OPTIONAL_FIELDS:
        value = arguments.get(name)
        if value is None or value is False or found.takes(mode, name):
            continue
        takers = _others(host, mode, lambda o, n=name: o.takes(mode, n))
        out.append(
            Problem(
                name,
                f"{label} does not take {FIELD_WORDS[name]} for {mode}",
                f"remove `{name}`" + (f", or use {_which(takers)}" if takers else ""),
                f"for {model} on {where}: no `{name}`",
            )
        )
    if whole_call and arguments.get("prompt") is None and mode in MODES and mode not in spec.optional_prompt:
        out.append(
            Problem(
                "prompt",
                f"missing: {spec.label} needs a prompt for {mode}",
                'add `prompt`, or use model "seedance-2.5", which can follow the media alone',
            )
        )
    return out + (_reference_problems(model, mode, arguments) if whole_call else [])


def _reference_problems(model: Model, mode: Mode, arguments: Mapping[str, Any]) -> list[Problem]:
    if mode != "reference-to-video":
        return []
    spec = MODEL_SPECS[model]
    limits = spec.references
    counts = {kind: len(arguments.get(f"{kind}_urls") or ()) for kind in ("image", "video", "audio")}
    bigger = [m for m in MODELS if MODEL_SPECS[m].references.files > limits.files]
    more = f", or {_which(bigger)}, which takes more" if bigger else ""
    out: list[Problem] = []
    for kind, most in (("image", limits.images), ("video", limits.videos), ("audio", limits.audios)):
        if counts[kind] > most:
            out.append(
                Problem(
                    f"{kind}_urls",
                    f"{counts[kind]} {kind}s, but {spec.label} takes at most {most}",
                    f"pass at most {most}{more}",
                    f"for {model}: a list of at most {most}",
                )
            )
    total = sum(counts.values())
    if total > limits.files:
        out.append(
            Problem(
                "image_urls/video_urls/audio_urls",
                f"{total} files in all, but {spec.label} takes at most {limits.files} together",
                f"drop some references so that images + videos + audios is {limits.files} or fewer{more}",
            )
        )
    if counts["audio"] and not counts["image"] and not counts["video"] and not limits.audio_alone:
        alone = [m for m in MODELS if MODEL_SPECS[m].references.audio_alone]
        out.append(
            Problem(
                "audio_urls",
                f"{spec.label} needs at least one image or video reference beside audio references",
                f"add an image_urls or video_urls entry, remove audio_urls, or use {_which(alone)}",
            )
        )
    elif not any(counts.values()):
        out.append(
            Problem(
                "image_urls",
                "reference_video needs at least one image or video reference"
                + (" (or, on this model, audio alone)" if limits.audio_alone else ""),
                "pass image_urls and/or video_urls, or use generate_text_video for a prompt alone",
            )
        )
    task = arguments.get("task")
    if task in ("editing", "extension") and not counts["video"]:
        out.append(
            Problem(
                "video_urls",
                f'task "{task}" {"edits" if task == "editing" else "continues"} a reference video, and none was given',
                'pass the video in video_urls, or use task "reference"',
            )
        )
    forced = {"editing": ("aspect_ratio", "duration"), "extension": ("aspect_ratio",)}.get(str(task), ())
    for name in forced:
        value = arguments.get(name)
        if value not in (None, "auto"):
            out.append(
                Problem(
                    name,
                    f'{json.dumps(value)}: task "{task}" follows the reference video\'s {name.replace("_", " ")}',
                    f'pass "auto" for {name}',
                    '"auto"',
                )
            )
    return out


def endpoint(host: str, model: Model, mode: Mode) -> str:
    """Where `host` serves this model in this mode: an endpoint id, a path or a model id."""
    found = offer(host, model)
    if found is None or mode not in found.endpoints:
        raise KeyError(f"{host} does not serve {model} for {mode}")
    return found.endpoints[mode]
