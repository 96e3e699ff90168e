"""Signed in, nothing one person made is another's to use: not as media, not in any tool, not across
replicas, not as a task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from tests.conftest import text_of
from tests.fake_fal import FakeFal, Phase
from tests.http_servers import mcp_over_http
from tests.media import picture
from tests.postgres import PostgresServer
from tests.signed_in import (
    DRAFT,
    FILM_TEMPLATE,
    JOB_TEMPLATE,
    Served,
    another_replica,
    as_person,
    served_fixture,  # noqa: F401  (the `served` fixture)
    signed_in_server,
)
from tests.test_tasks import Following, first_answer, get

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # a server and an identity provider in their own processes


@pytest.mark.parametrize("ledger", ["sqlite", "postgres"])
async def test_nothing_alice_made_is_bobs_to_use_in_any_tool(
    ledger: str, fake_fal: FakeFal, tmp_path: Path, request: pytest.FixtureRequest
):
    """Her jobs, frames and film, by reference, by id and by the saved file's path, in every tool that takes
    media or job ids, and as resources: each is not found for Bob, and the host hears nothing of it."""
    env = {"SEEDANCE_FAL_REST_URL": fake_fal.url}
    if ledger == "postgres":
        env["SEEDANCE_DATABASE_URL"] = request.getfixturevalue("postgres").fresh_database()
    with signed_in_server(fake_fal, tmp_path, **env) as served:
        alice, bob = served.idp.token("alice"), served.idp.token("bob")
        async with as_person(served, alice) as client:
            shots = [
                await client.call_tool("generate_text_video", {"prompt": f"her shot {n}", "duration": "4"})
                for n in (1, 2)
            ]
            jobs = [str((shot.structured_content or {}).get("request_id")) for shot in shots]
            film = await client.call_tool("make_film", {"request_ids": jobs, "title": "hers"})
            assert film.structured_content, text_of(film)
            film_id = str(film.structured_content["film_id"])
            made = await client.call_tool("generate_text_video", {**DRAFT, "prompt": "her draft"})
            draft = str((made.structured_content or {}).get("request_id"))
            hers = (await client.complete(JOB_TEMPLATE, {"name": "request_id", "value": ""})).completion.values
        job = jobs[0]
        saved = sorted(str(p) for p in (tmp_path / "videos").glob("*.mp4"))
        assert len(saved) == 4  # her two videos, her film and her draft, on the server's disk
        frame, video = f"seedance://jobs/{job}/frames/last", f"seedance://jobs/{job}"
        cheap = {"prompt": "mine now", "duration": "4"}
        calls: list[tuple[str, dict[str, Any]]] = [
            ("animate_image", {**cheap, "image_url": frame}),
            ("animate_image", {**cheap, "image_url": "https://media.example.org/a.png", "end_image_url": frame}),
            ("reference_video", {**cheap, "image_urls": [f"seedance://jobs/{job}/frames/first"]}),
            ("reference_video", {**cheap, "image_urls": ["https://media.example.org/a.png"], "video_urls": [video]}),
            *[("animate_image", {**cheap, "image_url": path}) for path in saved],
            ("reference_video", {**cheap, "image_urls": ["https://media.example.org/a.png"], "video_urls": saved}),
            ("get_job", {"request_id": job, "wait_seconds": 0}),
            ("cancel_job", {"request_id": job}),
            ("watch_job", {"request_id": job}),
            ("video_chunk", {"request_id": job}),
            ("inspect_video", {"request_id": job}),
            ("inspect_video", {"request_id": film_id}),
            ("make_film", {"request_ids": jobs}),
            ("make_film", {"request_ids": [film_id, job]}),
            ("complete_draft", {"request_id": draft}),
        ]
        before = len(fake_fal.requests)
        async with as_person(served, bob) as client:
            refused = {f"{name} {arguments}": await client.call_tool(name, arguments) for name, arguments in calls}
            listed = await client.call_tool("list_jobs", {})
            films = await client.call_tool("list_films", {})
            offered = (await client.complete(JOB_TEMPLATE, {"name": "request_id", "value": ""})).completion.values
            film_ids = await client.complete(FILM_TEMPLATE, {"name": "film_id", "value": ""})
            unread = []
            for uri in (video, f"{video}/video", f"seedance://films/{film_id}"):
                with pytest.raises(Exception, match=r"No (job|film)"):
                    await client.read_resource(uri)
                unread.append(uri)
        assert len(fake_fal.requests) == before, fake_fal.requests[before:]
        for call, result in refused.items():
            assert result.is_error, call
            text = text_of(result)
            assert "no job" in text.lower() or "reads no file" in text, (call, text)
            assert str(tmp_path) not in text
        assert job not in text_of(listed) and film_id not in text_of(films)
        assert hers == [draft, *jobs[::-1]] and offered == [] and film_ids.completion.values == []
        assert len(unread) == 3


async def test_an_upload_remembered_for_one_person_is_not_anothers(fake_fal: FakeFal, tmp_path: Path):
    """The same bytes from a shared folder: uploaded once for Alice however often she sends them, and again
    for Bob, whose job must not carry the link her upload made."""
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "logo.png").write_bytes(picture((400, 300), (200, 30, 30), (20, 20, 200)))
    env = {"SEEDANCE_FAL_REST_URL": fake_fal.url, "SEEDANCE_SHARED_DIRS": str(shared)}
    call = {"prompt": "the logo turns", "duration": "4", "image_url": str(shared / "logo.png"), "wait_seconds": 0}
    with signed_in_server(fake_fal, tmp_path, **env) as served:
        for person, prompt in (("alice", "once"), ("alice", "twice"), ("bob", "once")):
            async with as_person(served, served.idp.token(person)) as client:
                result = await client.call_tool("animate_image", {**call, "prompt": prompt})
                assert result.structured_content, text_of(result)
    assert len(fake_fal.uploads) == 2
    sent = [job.input["image_url"] for job in fake_fal.jobs.values()]
    assert len(sent) == 3 and sent[0] == sent[1] != sent[2]


async def test_across_replicas_on_postgresql_each_person_still_has_only_their_own(
    fake_fal: FakeFal, tmp_path: Path, postgres: PostgresServer
):
    """Alice's job, made on one replica, is hers on the other, and still not Bob's there."""
    env = {"SEEDANCE_FAL_REST_URL": fake_fal.url, "SEEDANCE_DATABASE_URL": postgres.fresh_database()}
    with (
        signed_in_server(fake_fal, tmp_path / "one", **env) as served,
        another_replica(served, fake_fal, tmp_path / "two", **env) as two,
    ):
        alice, bob = served.idp.token("alice"), served.idp.token("bob")
        async with as_person(served, alice) as client:
            made = await client.call_tool("generate_text_video", {"prompt": "her lighthouse", "duration": "4"})
        job = str((made.structured_content or {}).get("request_id"))
        before = len(fake_fal.requests)
        async with mcp_over_http(two, token=alice, timeout=60) as client:
            hers = await client.call_tool("get_job", {"request_id": job, "wait_seconds": 0})
        async with mcp_over_http(two, token=bob, timeout=60) as client:
            got = await client.call_tool("get_job", {"request_id": job, "wait_seconds": 0})
            listed = await client.call_tool("list_jobs", {})
            frame = f"seedance://jobs/{job}/frames/last"
            used = await client.call_tool("animate_image", {"prompt": "mine", "duration": "4", "image_url": frame})
    assert hers.structured_content and hers.structured_content["status"] == "completed", text_of(hers)
    assert got.is_error and "No job" in text_of(got)
    assert job not in text_of(listed)
    assert used.is_error and f"no job {job!r}" in text_of(used)
    assert len(fake_fal.requests) == before


async def test_a_task_is_its_owners_alone(served: Served, fake_fal: FakeFal):
    """Alice's task answers her; to Bob, with the id in hand, it is no task at all, as the spec's -32602."""
    fake_fal.plan = [Phase("IN_QUEUE", None, queue_position=1)]
    alice, bob = served.idp.token("alice"), served.idp.token("bob")
    tasks = Following()
    hers_client = mcp_over_http(served.url, token=alice, timeout=60, extensions=[tasks])
    async with hers_client as client, anyio.create_task_group() as tg:
        tg.start_soon(client.call_tool, "generate_text_video", {"prompt": "hers", "duration": "4"})
        task_id = str((await first_answer(tasks)).field("taskId"))
        hers = await get(client.session, task_id)
        tg.cancel_scope.cancel()
    async with mcp_over_http(served.url, token=bob, timeout=60, extensions=[Following()]) as client:
        with pytest.raises(MCPError) as foreign:
            await get(client.session, task_id)
        with pytest.raises(MCPError) as cancel:
            await get(client.session, task_id, "tasks/cancel")
    assert hers.field("status") == "working"
    assert foreign.value.error.code == cancel.value.error.code == -32602
    assert fake_fal.count("cancel") == 0
