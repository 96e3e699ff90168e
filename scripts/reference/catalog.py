"""The models table and the prices page, from the catalog and the pricing code."""

from __future__ import annotations

from decimal import Decimal

from server.catalog import FRAME_SIZES, MODEL_SPECS, MODELS, MODES, Model, ModelSpec, frame_size
from server.catalog.checks import offer
from server.catalog.offers import HOST_NAMES, OPTIONAL_FIELDS
from server.money.pricing import FORMULA

HOSTS = ("fal", "fal-us", "runflow", "ark")


def _references(spec: ModelSpec) -> str:
    refs = spec.references
    alone = ", audio alone" if refs.audio_alone else ""
    low, high = refs.clip_seconds
    return f"{refs.images} / {refs.videos} / {refs.audios}, {refs.files} in all; clips {low:g}-{high:g} s{alone}"


def _where(model: Model) -> str:
    found = []
    for host in HOSTS:
        sold = offer(host, model)
        if sold is not None:
            ids = sorted({sold.endpoints[mode] for mode in sold.modes if mode in MODES})
            place = f"`{ids[0].rsplit('/', 1)[0]}/...`" if host != "ark" else f"`{ids[0]}`"
            found.append(f"{HOST_NAMES[host]}: {place}")
    return "<br>".join(found)


def _fields(model: Model) -> str:
    lines = []
    for host in HOSTS:
        sold = offer(host, model)
        if sold is None:
            continue
        modes = [m for m in sold.modes if m in MODES]  # the generation tools'; complete_draft takes codec alone
        taken = [f"`{name}`" + (" (reference_video)" if not all(sold.takes(m, name) for m in modes) else "")
                 for name in OPTIONAL_FIELDS if any(sold.takes(m, name) for m in modes)]  # fmt: skip
        lines.append(f"{HOST_NAMES[host]}: {', '.join(taken) or 'none'}")
    return "<br>".join(lines)


def models_table() -> str:
    rows = [
        "| `model` | resolutions | `duration` | references (images / videos / audios) | optional fields | where |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for model in MODELS:
        spec = MODEL_SPECS[model]
        ratio = ' (image-to-video: `"auto"` only)' if spec.auto_ratio_only else ""
        rows.append(
            f"| `{model}` | {', '.join(spec.resolutions)}{ratio} | `auto`, 4-{spec.max_seconds} s | "
            f"{_references(spec)} | {_fields(model)} | {_where(model)} |"
        )
    return "\n".join(rows)


def prices_table() -> str:
    rows = [
        "| host | `model` | resolution | $ per 1000 tokens | with reference video | 16:9, per second | confirmed |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for host in HOSTS:
        for model in MODELS:
            sold = offer(host, model)
            if sold is None:
                continue
            for resolution, price in sold.prices.items():
                width, height = frame_size(resolution, "16:9", model)
                per_second = Decimal(width * height * 24) / 1024 * price.rate / 1000
                video = f"${price.with_video}" + ("" if price.video_confirmed else " (unconfirmed)")
                rows.append(
                    f"| {HOST_NAMES[host]} | `{model}` | {resolution} | ${price.rate} | {video} | "
                    f"${per_second:.4f} | {'yes' if price.confirmed else 'no: the higher figure'} |"
                )
    return "\n".join(rows)


def prices_page() -> str:
    sizes = ", ".join(f"{res} {w}x{h}" for res, table in FRAME_SIZES.items() for w, h in [table["16:9"]])
    return f"""# Prices

Generated from the catalog by `python -m scripts.reference`; do not edit by hand.

Every host bills Seedance by tokens: {FORMULA}, at its rate per 1000 tokens
for the model and the resolution. A request with reference videos bills their seconds too, at the rate
with reference video.
16:9 frames: {sizes}; seedance-2.5 draws 480p at 854x480.

Where the hosts' published figures disagree or are missing, the price is the higher candidate and is
marked unconfirmed: the bill may be lower. The estimate, the per-job cap and the daily budget all use it.

{prices_table()}

The offline preview is free; its list price is fal's.
"""
