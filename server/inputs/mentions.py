"""The inputs a prompt names (`@Image1`, `[Image1]`, `@Video2`, `@Audio1`), held against those given.

Reference prompts name their inputs by kind and place, counted from 1 in each list. A name with no input
behind it would make the host guess, or fail after the job is paid for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from server.errors import Problem

MENTION = re.compile(r"@(image|video|audio)(\d+)\b|\[(image|video|audio)(\d+)\]", re.IGNORECASE)
LISTS = {"image": "image_urls", "video": "video_urls", "audio": "audio_urls"}


def prompt_problems(arguments: Mapping[str, object], skip: Iterable[str] = ()) -> list[Problem]:
    """One problem per input the prompt names that the call does not give; none for tools without lists."""
    prompt, lists = arguments.get("prompt"), [name for name in LISTS.values() if name not in set(skip)]
    if not isinstance(prompt, str) or not any(name in arguments for name in lists):
        return []
    missing: dict[tuple[str, str, int], None] = {}
    for match in MENTION.finditer(prompt):
        kind = (match[1] or match[3]).lower()
        given = arguments.get(LISTS[kind])
        count = len(given) if isinstance(given, list) else 0
        if not 1 <= int(match[2] or match[4]) <= count:
            missing[match[0], kind, count] = None
    found = []
    for written, kind, count in missing:
        have = f"@{kind.title()}1 to @{kind.title()}{count}" if count else f"no {kind}"
        found.append(
            Problem(
                "prompt",
                f"it names {written}, but {LISTS[kind]} holds {count} {kind}{'' if count == 1 else 's'}",
                f"add that {kind} to {LISTS[kind]}, or name only the {kind}s given",
                f"{have}, in the order of {LISTS[kind]}",
            )
        )
    return found
