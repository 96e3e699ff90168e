"""Sign-in with the team's identity provider: a real OpenID Connect provider issues the tokens, a real
server process checks them, and each person sees only their own jobs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx2
import jwt
import pytest

from tests.conftest import text_of
from tests.fake_fal import FakeFal
from tests.http_servers import wait_until
from tests.signed_in import (
    CHEAP,
    Served,
    as_person,
    post_initialize,
    served_fixture,  # noqa: F401  (the `served` fixture)
    signed_in_server,
)

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # a server and an identity provider in their own processes


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
