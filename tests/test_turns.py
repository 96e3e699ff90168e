"""Preview renders take turns by person: one person's queue does not hold up another's."""

from __future__ import annotations

import anyio
import pytest

from server.preview.turns import Turns

pytestmark = pytest.mark.anyio


def test_a_newcomer_waits_for_one_render_of_each_other_person_not_for_their_whole_queue():
    turns = Turns(1)
    for n in range(300):
        turns.join("alice", f"a{n}")
    turns.join("bob", "b0")
    turns.join("bob", "b1")
    assert turns.position("a0") is None  # running
    assert turns.position("b0") == 1  # after alice's next, not after her 299
    assert turns.position("b1") == 3  # a1, b0, a2, then b1
    assert turns.position("a299") == 300


async def test_renders_run_in_turns_and_a_cancelled_one_gives_up_its_place():
    turns = Turns(1)
    ran: list[str] = []
    for name in ("a0", "a1", "a2"):
        turns.join("alice", name)
    turns.join("bob", "b0")
    turns.join("carol", "c0")
    turns.leave("a1")  # cancelled while it waited

    async def render(name: str) -> None:
        if await turns.take(name):
            ran.append(name)
            await anyio.sleep(0)
            turns.leave(name)

    async with anyio.create_task_group() as tg:
        for name in ("a0", "a1", "a2", "b0", "c0"):
            tg.start_soon(render, name)
    assert ran == ["a0", "a2", "b0", "c0"]  # a2 was queued before bob and carol came
