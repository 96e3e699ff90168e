"""Sign-in with the team's identity provider: a real OpenID Connect provider issues the tokens, a real
server process checks them, and each person sees only their own jobs."""

from __future__ import annotations

import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import jwt
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import ResourceTemplateReference

from tests.conftest import text_of
from tests.fake_fal import FakeFal, Phase
from tests.http_servers import free_port, mcp_over_http, port_was_taken, start, start_on, wait_until
from tests.identity_provider import IdentityProvider, identity_provider
from tests.media import picture
from tests.postgres import PostgresServer
from tests.test_http import INITIALIZE
from tests.test_tasks import Following, first_answer, get

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # a server and an identity provider in their own processes

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
PORT_TRIES = 5
JOB_TEMPLATE = ResourceTemplateReference(uri="seedance://jobs/{request_id}")
FILM_TEMPLATE = ResourceTemplateReference(uri="seedance://films/{film_id}")
CHEAP = {"duration": "4", "aspect_ratio": "16:9", "wait_seconds": 0}  # $1.2096 on fal
DRAFT = {"model": "seedance-2.5", "draft": True, "duration": "4", "aspect_ratio": "16:9"}  # $0.82 on fal


@dataclass
class Served:
    url: str
    idp: IdentityProvider
    process: subprocess.Popen[bytes]
    folder: Path

    def log(self) -> str:
        return (self.folder / "stderr.log").read_text()


@contextmanager
def signed_in_server(fake: FakeFal, folder: Path, **env: str) -> Iterator[Served]:
    """The server behind the identity provider. Its URL is the resource the tokens are issued for, so its
    port is chosen before it starts; should another process take that port first, another is chosen."""
    with identity_provider(other_resource="http://127.0.0.1:1/elsewhere") as idp:
        for _ in range(PORT_TRIES):
            port = free_port()
            resource = f"http://127.0.0.1:{port}/mcp"
            process, _ = start_on(
                port,
                fake,
                folder,
                "--host",
                "0.0.0.0",
                SEEDANCE_OAUTH_ISSUER=idp.issuer,
                SEEDANCE_OAUTH_RESOURCE=resource,
                SEEDANCE_OAUTH_CLIENT_ID="seedance-mcp",
                SEEDANCE_OAUTH_CLIENT_SECRET="seedance-mcp-secret-0123456789abcdef",
                **env,
            )
            if process.poll() is None or not port_was_taken(folder):
                break
        idp.resource = resource
        try:
            assert process.poll() is None, (folder / "stderr.log").read_text()
            yield Served(resource, idp, process, folder)
        finally:
            process.terminate()
            process.wait(timeout=20)


@contextmanager
def another_replica(served: Served, fake: FakeFal, folder: Path, **env: str) -> Iterator[str]:
    """A second server behind the same identity provider, as the balancer's other replica: the same public
    resource, its own port and folder. Its MCP URL."""
    process, port = start(
        fake,
        folder,
        "--host",
        "0.0.0.0",
        SEEDANCE_OAUTH_ISSUER=served.idp.issuer,
        SEEDANCE_OAUTH_RESOURCE=served.url,
        SEEDANCE_OAUTH_CLIENT_ID="seedance-mcp",
        SEEDANCE_OAUTH_CLIENT_SECRET="seedance-mcp-secret-0123456789abcdef",
        **env,
    )
    try:
        assert process.poll() is None, (folder / "stderr.log").read_text()
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture
def served(fake_fal: FakeFal, tmp_path: Path) -> Iterator[Served]:
    with signed_in_server(fake_fal, tmp_path) as server:
        yield server


@asynccontextmanager
async def as_person(served: Served, token: str) -> AsyncIterator[Client]:
    async with mcp_over_http(served.url, token=token, timeout=60) as client:
        yield client


async def post_initialize(served: Served, token: str | None) -> httpx2.Response:
    headers = {**HEADERS, **({"Authorization": f"Bearer {token}"} if token is not None else {})}
    async with httpx2.AsyncClient(timeout=30) as http:
        return await http.post(served.url, json=INITIALIZE, headers=headers)


async def test_the_server_describes_itself_as_a_protected_resource_of_the_issuer(served: Served):
    base = served.url.removesuffix("/mcp")
    async with httpx2.AsyncClient(timeout=30) as http:
        at_path = await http.get(f"{base}/.well-known/oauth-protected-resource/mcp")
        bare = await http.get(f"{base}/.well-known/oauth-protected-resource")
    assert at_path.status_code == bare.status_code == 200
    for metadata in (at_path.json(), bare.json()):
        assert metadata["resource"] == served.url
        assert metadata["authorization_servers"] == [served.idp.issuer]
        assert "seedance" in metadata["scopes_supported"]


async def test_a_call_without_a_good_token_is_refused_and_told_where_to_sign_in(served: Served):
    idp = served.idp
    good = idp.token("alice")
    claims = jwt.decode(good, options={"verify_signature": False})
    forged = jwt.encode({**claims, "sub": "mallory"}, "a-shared-secret-anyone-could-have-0123", algorithm="HS256")
    tampered = good.rsplit(".", 1)[0] + "." + good.rsplit(".", 1)[1][::-1]
    brief = idp.token("brief")
    wait_until(
        lambda: time.time() > jwt.decode(brief, options={"verify_signature": False})["exp"], "the token to expire"
    )

    answers = {
        "none": await post_initialize(served, None),
        "garbage": await post_initialize(served, "not-a-token"),
        "forged": await post_initialize(served, forged),
        "tampered": await post_initialize(served, tampered),
        "expired": await post_initialize(served, brief),
        "wrong audience": await post_initialize(served, idp.token("alice", resource="http://127.0.0.1:1/elsewhere")),
        "missing scope": await post_initialize(served, idp.token("carol", scope=None)),
        "good": await post_initialize(served, good),
        "opaque": await post_initialize(served, idp.token("opaque")),  # checked by introspection
    }

    codes = {name: answer.status_code for name, answer in answers.items()}
    assert codes == {
        "none": 401,
        "garbage": 401,
        "forged": 401,
        "tampered": 401,
        "expired": 401,
        "wrong audience": 401,
        "missing scope": 403,
        "good": 200,
        "opaque": 200,
    }
    metadata = served.url.removesuffix("/mcp") + "/.well-known/oauth-protected-resource/mcp"
    for name in ("none", "expired", "wrong audience"):
        challenge = answers[name].headers["www-authenticate"]
        assert challenge.startswith("Bearer ") and f'resource_metadata="{metadata}"' in challenge, challenge
    assert 'error="insufficient_scope"' in answers["missing scope"].headers["www-authenticate"]
    log = served.log()
    assert good not in log and brief not in log  # the reasons are logged, never the tokens
    assert "access token refused" in log


async def test_each_person_sees_only_their_own_jobs_unless_an_admin(served: Served, fake_fal: FakeFal):
    idp = served.idp
    alice, bob = idp.token("alice"), idp.token("bob")
    admin = idp.token("admin", scope="seedance seedance:admin")
    async with as_person(served, alice) as client:
        made = await client.call_tool("generate_text_video", {"prompt": "alice's lighthouse", **CHEAP})
        assert made.structured_content, text_of(made)
        job = str(made.structured_content["request_id"])
        mine = await client.call_tool("list_jobs", {})
        own_read = await client.read_resource(f"seedance://jobs/{job}")
    async with as_person(served, bob) as client:
        same_call = await client.call_tool("generate_text_video", {"prompt": "alice's lighthouse", **CHEAP})
        listed = await client.call_tool("list_jobs", {})
        got = await client.call_tool("get_job", {"request_id": job, "wait_seconds": 0})
        cancelled = await client.call_tool("cancel_job", {"request_id": job})
        recent = await client.read_resource("seedance://jobs")
        with pytest.raises(Exception, match="No job"):
            await client.read_resource(f"seedance://jobs/{job}")
        from_her_frame = await client.call_tool(
            "animate_image", {"prompt": "on", "image_url": f"seedance://jobs/{job}/frames/last", **CHEAP}
        )
    async with as_person(served, admin) as client:
        everything = await client.call_tool("list_jobs", {})

    def ids(result: Any) -> set[str]:
        return {j["request_id"] for j in (result.structured_content or {}).get("jobs", [])}

    assert ids(mine) == {job} and own_read.contents
    bobs_job = str((same_call.structured_content or {}).get("request_id"))
    assert bobs_job != job  # an identical call from another person is their own job, not hers
    assert ids(listed) == {bobs_job}
    assert got.is_error and "No job" in text_of(got)
    assert cancelled.is_error and "No job" in text_of(cancelled)
    assert job not in text_of(recent)
    assert from_her_frame.is_error and job in text_of(from_her_frame)
    assert ids(everything) == {job, bobs_job}
    assert not fake_fal.job(job).cancelled
    log = served.log()
    assert "alice calls generate_text_video" in log and f"job {job} submitted" in log
    assert alice not in log and bob not in log and admin not in log


async def test_a_film_is_seen_by_whoever_may_see_its_shots(served: Served):
    idp = served.idp
    alice, bob = idp.token("alice"), idp.token("bob")
    admin = idp.token("admin", scope="seedance seedance:admin")
    async with as_person(served, alice) as client:
        shots = [
            await client.call_tool("generate_text_video", {"prompt": f"shot {n}", "duration": "4"}) for n in (1, 2)
        ]
        ids = [str((shot.structured_content or {}).get("request_id")) for shot in shots]
        made = await client.call_tool("make_film", {"request_ids": ids})
        assert made.structured_content, text_of(made)
        film = str(made.structured_content["film_id"])
        hers = await client.call_tool("list_films", {})
    async with as_person(served, bob) as client:
        listed = await client.call_tool("list_films", {})
        looked = await client.call_tool("inspect_video", {"request_id": film})
        with pytest.raises(Exception, match="No film"):
            await client.read_resource(f"seedance://films/{film}")
    async with as_person(served, admin) as client:
        everyone = await client.call_tool("list_films", {})

    def films(result: Any) -> list[str]:
        return [f["film_id"] for f in (result.structured_content or {}).get("films", [])]

    assert films(hers) == [film] and films(everyone) == [film]
    assert films(listed) == []
    assert looked.is_error and f"no job {film!r}" in text_of(looked)  # as if it did not exist


async def test_each_person_has_a_daily_budget_beside_the_teams(fake_fal: FakeFal, tmp_path: Path):
    with signed_in_server(fake_fal, tmp_path, SEEDANCE_USER_DAILY_BUDGET_USD="2") as served:
        alice, bob = served.idp.token("alice"), served.idp.token("bob")
        async with as_person(served, alice) as client:
            first = await client.call_tool("generate_text_video", {"prompt": "one", **CHEAP})
            second = await client.call_tool("generate_text_video", {"prompt": "two", **CHEAP})
        async with as_person(served, bob) as client:
            bobs = await client.call_tool("generate_text_video", {"prompt": "three", **CHEAP})
    assert not first.is_error and not bobs.is_error, (text_of(first), text_of(bobs))
    assert second.is_error and "SEEDANCE_USER_DAILY_BUDGET_USD" in text_of(second) and "$0.79" in text_of(second)
    assert fake_fal.count("submit") == 2


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
