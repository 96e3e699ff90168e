"""Signed download links: over HTTP with SEEDANCE_PUBLIC_URL, every finished video, poster and film is handed
out as a link of the server's own, which serves the saved copy byte for byte, with ranges, and refuses a
link that was changed or has expired without saying whether the file exists.

A real server in its own process on loopback, on the fal fake or the offline previews. An expired link is
made, not waited for: signed with the server's own key and a time in the past.
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from mcp.types import CallToolResult

from server.media.links import Links, Target
from tests.conftest import text_of
from tests.fake_fal import FakeFal
from tests.http_servers import mcp_over_http
from tests.test_webhooks import CHEAP, Served, serving

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # a server in its own process

KEY = "4b1d9e0c7a6f5e3d2c1b0a99887766554433221100ffeeddccbbaa-link-key"
TTL = 7 * 86400


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def call(served: Served, tool: str, **arguments: Any) -> dict[str, Any]:
    """A tool call's structured content; the call must succeed."""
    return dict((await answer(served, tool, **arguments)).structured_content or {})


async def answer(served: Served, tool: str, **arguments: Any) -> CallToolResult:
    async with mcp_over_http(served.url, timeout=120) as client:
        result = await client.call_tool(tool, arguments)
    assert not result.is_error and result.structured_content is not None, text_of(result)
    return result


def download(url: str, **headers: str) -> httpx2.Response:
    return httpx2.get(url, headers=headers, timeout=30)


def only_file(folder: Path, pattern: str) -> Path:
    [found] = list(folder.glob(pattern))
    return found


@pytest.fixture
def fal_served(fake_fal: FakeFal, tmp_path: Path) -> Any:
    with serving(fake_fal, tmp_path, SEEDANCE_REQUEST_STATE_KEYS=KEY) as served:
        yield served


async def test_a_fal_jobs_link_downloads_its_saved_file_byte_for_byte_and_seeks(fake_fal: FakeFal, fal_served: Served):
    job = await call(fal_served, "generate_text_video", **CHEAP, wait_seconds=60)
    assert job["status"] == "completed", job
    video = job["video"]
    saved = only_file(fal_served.folder / "videos", "*.mp4")
    assert video["url"].startswith(f"{fal_served.public}/files/jobs/{job['request_id']}/video.mp4?expires=")
    assert video["host_url"].startswith(fake_fal.cdn)  # the host's own link, kept while it lives
    assert video["saved_path"] is None and video["poster_path"] is None  # the server's disk is not the caller's

    whole = download(video["url"])
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
    assert int(whole.headers["content-length"]) == saved.stat().st_size
    assert sha256(whole.content) == sha256(saved.read_bytes())
    assert whole.headers["accept-ranges"] == "bytes"

    part = download(video["url"], Range="bytes=100-199")
    assert part.status_code == 206 and part.content == saved.read_bytes()[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{saved.stat().st_size}"
    assert download(video["url"], Range=f"bytes={saved.stat().st_size}-").status_code == 416
    head = httpx2.head(video["url"], timeout=30)
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == str(len(whole.content))

    poster = download(video["poster_url"])
    assert poster.status_code == 200 and poster.headers["content-type"] == "image/jpeg"
    assert poster.content == only_file(fal_served.folder / "home" / "posters", "*.jpg").read_bytes()

    log = fal_served.log()  # the access log names the downloads, not what proves them
    assert f"/files/jobs/{job['request_id']}/video.mp4" in log and "sig=" not in log
    assert "/hooks/…" in log and not re.search(r"/hooks/[A-Za-z0-9_-]{32}", log)  # nor the webhook's token


async def test_a_changed_expired_or_unknown_link_is_refused_alike(fake_fal: FakeFal, fal_served: Served):
    job = await call(fal_served, "generate_text_video", **CHEAP, wait_seconds=60)
    url = job["video"]["url"]
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    signer = Links(fal_served.public, (KEY.encode(),), TTL)
    expired = signer.sign(Target("jobs", job["request_id"], "video.mp4"), now=time.time() - TTL - 60)
    other_sig = url.replace(query["sig"][0], query["sig"][0][::-1])
    later = url.replace(f"expires={query['expires'][0]}", f"expires={int(query['expires'][0]) + 86400}")
    first = "1" if job["request_id"].startswith("0") else "0"  # another job's id, whatever this one's starts with
    elsewhere = url.replace(job["request_id"], first + job["request_id"][1:])
    missing = signer.sign(Target("jobs", "no-such-job", "video.mp4"))  # signed, but names nothing

    answers = {
        name: download(link)
        for name, link in {
            "signature": other_sig,
            "expiry": later,
            "job": elsewhere,
            "expired": expired,
            "no key": url.split("?")[0],
        }.items()
    }
    assert {name: answer.status_code for name, answer in answers.items()} == dict.fromkeys(answers, 403)
    assert len({answer.content for answer in answers.values()}) == 1  # one answer, whatever the link names
    assert download(missing).status_code == 404  # only a link the server signed learns that its file is gone
    assert download(url).status_code == 200


async def test_after_the_hosts_link_has_died_get_job_still_hands_out_one_that_works(
    fake_fal: FakeFal, fal_served: Served
):
    job = await call(fal_served, "generate_text_video", **CHEAP, wait_seconds=60)
    fake_fal.link_lifetime = 0
    assert download(job["video"]["host_url"]).status_code == 403  # as ModelArk's links do after 24 hours
    downloads = len(fake_fal.downloads)
    again = await call(fal_served, "get_job", request_id=job["request_id"], wait_seconds=0)
    fresh = again["video"]["url"]
    assert fresh.startswith(f"{fal_served.public}/files/jobs/")
    assert sha256(download(fresh).content) == sha256(only_file(fal_served.folder / "videos", "*.mp4").read_bytes())
    listed = await call(fal_served, "list_jobs")
    assert listed["jobs"][0]["video"]["url"].startswith(f"{fal_served.public}/files/jobs/{job['request_id']}/")
    assert len(fake_fal.downloads) == downloads  # served from the saved copy, never the host


async def test_a_previews_link_downloads_its_file_and_a_films_link_its_film(fake_fal: FakeFal, tmp_path: Path):
    with serving(fake_fal, tmp_path, SEEDANCE_PROVIDER="local") as served:
        first = await call(served, "generate_text_video", **CHEAP, wait_seconds=60)
        second = await call(served, "generate_text_video", **{**CHEAP, "prompt": "a heron takes off"}, wait_seconds=60)
        assert first["preview"] and first["status"] == "completed", first
        rendered = only_file(tmp_path / "home" / "previews", f"{first['request_id']}*.mp4")
        assert sha256(download(first["video"]["url"]).content) == sha256(rendered.read_bytes())
        assert first["video"]["host_url"] is None  # a preview has no host

        film = await call(served, "make_film", request_ids=[first["request_id"], second["request_id"]])
        assert film["url"].startswith(f"{served.public}/files/films/{film['film_id']}/video.mp4?")
        joined = download(film["url"])
        assert joined.status_code == 200 and joined.content[4:8] == b"ftyp"
        assert download(film["poster_url"]).headers["content-type"] == "image/jpeg"
        listed = await call(served, "list_films")
        assert listed["films"][0]["url"].startswith(f"{served.public}/files/films/")
