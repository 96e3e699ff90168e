"""What each host sells of each model: where to send it, what it takes, and its price per resolution.

Prices are USD per 1000 tokens, without and with reference video in the request (lineup-2026.md §1.1,
§1.6, §2.5). Where the sources disagree, or only an inference gives a figure, the price is the higher
candidate and marked unconfirmed, so that an estimate and a cap never fall short of the bill:
- fal 2.0 at 1080p: one flat rate ($0.014) in fal's schema, against BytePlus's 10% more at 1080p: $0.0154;
- fal 2.0 at 4k: $0.014 (BytePlus's own 4k rate is lower);
- fal 2.5 at 1080p and its draft completion: $0.0214 in fal's schema, $0.0234 in a fal cost ledger;
- fal mini and 2.5 with reference video: no source confirms fal's 0.6x, so they are priced without it;
- ModelArk 2.0 at 1080p and 4k: one rate table; its 4k figure is below 1080p's, so 4k takes 1080p's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from server.catalog.enums import DRAFT_COMPLETION, MODES, Mode, Model, Resolution

OptionalField = str  # one of OPTIONAL_FIELDS
OPTIONAL_FIELDS = ("seed", "codec", "bitrate_mode", "draft", "task")


@dataclass(frozen=True)
class Price:
    rate: Decimal  # USD per 1000 tokens
    with_video: Decimal  # when the request carries reference videos, whose seconds are billed too
    confirmed: bool = True
    video_confirmed: bool = True  # whether `with_video` is a published figure, not the full rate held to


@dataclass(frozen=True)
class Offer:
    """One model on one host."""

    host: str
    model: Model
    endpoints: Mapping[Mode, str]  # an endpoint id, a path or a model id, by mode
    prices: Mapping[Resolution, Price]
    fields: Mapping[Mode, frozenset[OptionalField]] = field(default_factory=dict)

    @property
    def resolutions(self) -> tuple[Resolution, ...]:
        return tuple(self.prices)

    @property
    def modes(self) -> tuple[Mode, ...]:
        return tuple(self.endpoints)

    def takes(self, mode: Mode, name: OptionalField) -> bool:
        return name in self.fields.get(mode, frozenset())


def _price(rate: str, with_video: str | None = None, *, confirmed: bool = True) -> Price:
    """fal's rule: reference videos bill at 0.6x; `with_video` gives another host's own figure."""
    value = Decimal(rate)
    return Price(value, Decimal(with_video) if with_video else value * Decimal("0.6"), confirmed)


def _full(rate: str, *, confirmed: bool = True) -> Price:
    """A rate no source confirms fal's 0.6x for: reference videos are priced at the full rate, the higher one."""
    return Price(Decimal(rate), Decimal(rate), confirmed, video_confirmed=False)


def _every(fields: set[str], **extra: set[str]) -> dict[Mode, frozenset[str]]:
    return {mode: frozenset(fields | extra.get(mode.replace("-", "_"), set())) for mode in MODES}


def _fal(path: str) -> dict[Mode, str]:
    return {mode: f"{path}/{mode}" for mode in MODES}


FAL_20 = _price("0.014")
FAL_20_1080P = _price("0.0154", confirmed=False)
FAL_MINI = _full("0.007")
FAL_25 = _full("0.0214")
FAL_25_1080P = _full("0.0234", confirmed=False)

FAL: dict[Model, Offer] = {
    "seedance-2.0": Offer(
        "fal",
        "seedance-2.0",
        _fal("bytedance/seedance-2.0"),
        {"480p": FAL_20, "720p": FAL_20, "1080p": FAL_20_1080P, "4k": _price("0.014", confirmed=False)},
        _every({"codec", "bitrate_mode"}),
    ),
    "seedance-2.0-fast": Offer(
        "fal",
        "seedance-2.0-fast",
        _fal("bytedance/seedance-2.0/fast"),
        {"480p": _price("0.0112"), "720p": _price("0.0112")},
        _every({"codec", "bitrate_mode"}),
    ),
    "seedance-2.0-mini": Offer(
        "fal",
        "seedance-2.0-mini",
        _fal("bytedance/seedance-2.0/mini"),
        {"480p": FAL_MINI, "720p": FAL_MINI},
        _every({"codec"}),
    ),
    "seedance-2.5": Offer(
        "fal",
        "seedance-2.5",
        {**_fal("bytedance/seedance-2.5"), DRAFT_COMPLETION: "bytedance/seedance-2.5/draft/complete"},
        {"480p": FAL_25, "720p": FAL_25, "1080p": FAL_25_1080P},
        {
            **_every({"codec", "bitrate_mode", "draft"}, reference_to_video={"seed", "task"}),
            DRAFT_COMPLETION: frozenset({"codec"}),
        },
    ),
}

# fal's US copies (SEEDANCE_FAL_REGION=us): 2.0 standard and 2.5 only, at 1.2x, 2.5 without drafts. 1080p
# takes 1.2x the unconfirmed figure above it; 4k 1.2x fal's flat rate, as the global copy does.
FAL_US: dict[Model, Offer] = {
    "seedance-2.0": Offer(
        "fal-us",
        "seedance-2.0",
        _fal("bytedance/seedance-2.0/us"),
        {
            "480p": _price("0.0168"),
            "720p": _price("0.0168"),
            "1080p": _price("0.01848", confirmed=False),
            "4k": _price("0.0168", confirmed=False),
        },
        _every({"codec", "bitrate_mode"}),
    ),
    "seedance-2.5": Offer(
        "fal-us",
        "seedance-2.5",
        _fal("bytedance/seedance-2.5/us"),
        {
            "480p": _full("0.02568"),
            "720p": _full("0.02568"),
            "1080p": _full("0.02808", confirmed=False),
        },
        _every({"codec", "bitrate_mode"}, reference_to_video={"seed", "task"}),
    ),
}

# Runflow sells 2.0 standard and fast for text and image input, at fal's rates per 720p second; it publishes
# no 1080p price, so 1080p takes fal's unconfirmed one.
RUNFLOW_MODES: tuple[Mode, ...] = ("text-to-video", "image-to-video")
RUNFLOW: dict[Model, Offer] = {
    "seedance-2.0": Offer(
        "runflow",
        "seedance-2.0",
        {mode: f"bytedance/seedance/2.0/{mode}" for mode in RUNFLOW_MODES},
        {"480p": FAL_20, "720p": FAL_20, "1080p": FAL_20_1080P},
        _every({"seed"}),
    ),
    "seedance-2.0-fast": Offer(
        "runflow",
        "seedance-2.0-fast",
        {mode: f"bytedance/seedance/2.0/fast/{mode}" for mode in RUNFLOW_MODES},
        {"480p": _price("0.0112"), "720p": _price("0.0112")},
        _every({"seed"}),
    ),
}

ARK_MODEL_IDS: dict[Model, str] = {
    "seedance-2.0": "dreamina-seedance-2-0-260128",
    "seedance-2.0-fast": "dreamina-seedance-2-0-fast-260128",
    "seedance-2.0-mini": "dreamina-seedance-2-0-mini-260615",
    "seedance-2.5": "dreamina-seedance-2-5-260628",
}
ARK_20_1080P = _price("0.0077", "0.0047", confirmed=False)


def ark_offers(model_ids: Mapping[Model, str] = ARK_MODEL_IDS) -> dict[Model, Offer]:
    """ModelArk's offers, under the model ids this server is set to use (an operator may name its own)."""

    def same(model: Model) -> dict[Mode, str]:
        return dict.fromkeys(MODES, model_ids[model])

    return {
        "seedance-2.0": Offer(
            "ark",
            "seedance-2.0",
            same("seedance-2.0"),
            {
                "480p": _price("0.0070", "0.0043"),
                "720p": _price("0.0070", "0.0043"),
                "1080p": ARK_20_1080P,
                "4k": ARK_20_1080P,
            },
            _every({"seed"}),
        ),
        "seedance-2.0-fast": Offer(
            "ark",
            "seedance-2.0-fast",
            same("seedance-2.0-fast"),
            {"480p": _price("0.0056", "0.0033"), "720p": _price("0.0056", "0.0033")},
            _every({"seed"}),
        ),
        "seedance-2.0-mini": Offer(
            "ark",
            "seedance-2.0-mini",
            same("seedance-2.0-mini"),
            {"480p": _price("0.0035", "0.0021"), "720p": _price("0.0035", "0.0021")},
            _every({"seed"}),
        ),
        "seedance-2.5": Offer(
            "ark",
            "seedance-2.5",
            {**same("seedance-2.5"), DRAFT_COMPLETION: model_ids["seedance-2.5"]},
            {
                "480p": _price("0.0107", "0.0064"),
                "720p": _price("0.0107", "0.0064"),
                "1080p": _price("0.0117", "0.0070"),
            },
            _every({"seed", "draft"}, reference_to_video={"task"}),
        ),
    }


HOST_NAMES = {
    "fal": "fal",
    "fal-us": "fal (US)",
    "runflow": "Runflow",
    "ark": "BytePlus ModelArk",
    "local": "the offline preview",
}
OFFERS: dict[str, dict[Model, Offer]] = {
    "fal": FAL,
    "fal-us": FAL_US,
    "runflow": RUNFLOW,
    "ark": ark_offers(),
    "local": FAL,
}
