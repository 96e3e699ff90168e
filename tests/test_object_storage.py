"""Saved copies in object storage: with SEEDANCE_STORAGE_URL, two replicas on one PostgreSQL ledger keep every
video, poster, sidecar and film in the bucket, and either serves what the other saved.

Real servers in their own processes, a real S3 API (moto's server) and the fal fake, all on loopback. The
fake's video links expire once the job is done, so nothing the second replica serves can come from fal.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx2
import pytest
from mcp.types import ImageContent

from tests.fake_fal import FakeFal
from tests.http_servers import mcp_over_http
from tests.object_store import Bucket, S3Server
from tests.postgres import PostgresServer
from tests.test_links import KEY, answer, call, download, sha256
from tests.test_webhooks import CHEAP, Served, serving

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # servers in their own processes


@pytest.fixture
def bucket(s3: S3Server) -> Bucket:
    return s3.fresh_bucket()


@contextmanager
def two_replicas(fake: FakeFal, tmp_path: Path, database: str, bucket: Bucket) -> Iterator[tuple[Served, Served]]:
    """Replicas A and B, each at its own public URL, sharing the ledger, the link key and the bucket."""
    shared = {"SEEDANCE_DATABASE_URL": database, "SEEDANCE_REQUEST_STATE_KEYS": KEY, **bucket.env}
    shared["SEEDANCE_FAL_REST_URL"] = fake.url  # where a frame is uploaded before it starts a job
    with ExitStack() as stack:
        a = stack.enter_context(serving(fake, tmp_path / "a", **shared))
        b = stack.enter_context(serving(fake, tmp_path / "b", **shared))
        yield a, b


async def read_video(served: Served, uri: str) -> bytes:
    async with mcp_over_http(served.url, timeout=120) as client:
        read = await client.read_resource(uri)
    [content] = read.contents
    assert hasattr(content, "blob"), content
    return base64.b64decode(content.blob)


def stems(keys: dict[str, int]) -> dict[str, set[str]]:
    """Each stored name, without its extension, with the extensions stored under it."""
    found: dict[str, set[str]] = {}
    for key in keys:
        stem, _, ext = key.rpartition(".")
        found.setdefault(stem, set()).add(ext)
    return found


async def test_two_replicas_share_every_saved_copy_through_the_bucket(
    fake_fal: FakeFal, tmp_path: Path, postgres: PostgresServer, bucket: Bucket
):
    with two_replicas(fake_fal, tmp_path, postgres.fresh_database(), bucket) as (a, b):
        fake_fal.link_lifetime = 1  # once the job's replica has saved it, only the bucket has it
        made = await call(a, "generate_text_video", **CHEAP, wait_seconds=60)
        assert made["status"] == "completed", made
        request_id = made["request_id"]
        assert download(made["video"]["host_url"]).status_code == 403
        for made_on_a in (tmp_path / "a" / "home").rglob("*.*"):  # as if A were another machine
            if made_on_a.suffix in (".mp4", ".jpg"):
                made_on_a.unlink()

        stored = {key: size for key, size in bucket.keys().items() if key.endswith(".mp4")}
        [(video_key, size)] = stored.items()
        assert video_key.startswith("team/") and size == len(fake_fal.video)
        assert sha256(bucket.read(video_key)) == sha256(fake_fal.video)

        shown = await answer(b, "get_job", request_id=request_id, wait_seconds=0)
        seen = dict(shown.structured_content or {})
        link = seen["video"]["url"]
        [image] = [block for block in shown.content if isinstance(block, ImageContent)]  # the poster A stored
        assert base64.b64decode(image.data) == bucket.read(video_key.replace(".mp4", ".jpg"))
        assert link.startswith(f"{b.public}/files/jobs/{request_id}/video.mp4?")
        assert sha256(download(link).content) == sha256(fake_fal.video)
        part = download(link, Range="bytes=100-199")
        assert part.status_code == 206 and part.content == fake_fal.video[100:200]
        assert download(seen["video"]["poster_url"]).content == bucket.read(video_key.replace(".mp4", ".jpg"))
        assert await read_video(b, f"seedance://jobs/{request_id}/video") == fake_fal.video

        frame = f"seedance://jobs/{request_id}/frames/last"
        followed = await call(
            b,
            "animate_image",
            prompt="the kite climbs out of frame",
            image_url=frame,
            duration="4",
            resolution="480p",
            wait_seconds=60,
        )
        assert followed["status"] == "completed", followed
        [(name, _, png)] = fake_fal.uploads
        assert name.endswith(".png") and png.startswith(b"\x89PNG")  # the frame went to fal as the start image
        assert bucket.read(f"team/frames/{request_id}-last.png") == png  # and is stored for the other replicas

        film = await call(b, "make_film", request_ids=[request_id, followed["request_id"]])
        joined = download(film["url"])
        assert joined.status_code == 200 and joined.content[4:8] == b"ftyp"
        assert film["saved_path"] is None
        assert await read_video(a, f"seedance://films/{film['film_id']}") == joined.content  # and on A, from B
        looked = await call(a, "inspect_video", request_id=film["film_id"], frames=4)
        assert len(looked["frames"]) == 4 and looked["facts"]["duration"] == 8.0, looked

        keys = {key: size for key, size in bucket.keys().items() if not key.startswith("team/frames/")}
        films = [key for key in keys if "film" in key and key.endswith(".mp4")]
        assert len(films) == 1 and sha256(bucket.read(films[0])) == sha256(joined.content)
        sidecar = json.loads(bucket.read(films[0].replace(".mp4", ".json")))
        assert [shot["request_id"] for shot in sidecar["shots"]] == [request_id, followed["request_id"]]
        # Each video, its poster and its sidecar, and nothing else: no part of an upload, no stray name.
        assert all(exts == {"mp4", "json", "jpg"} for exts in stems(keys).values()), keys
        assert len(stems(keys)) == 3 and all(size > 0 for size in keys.values())
        assert "Uploads" not in bucket.client().list_multipart_uploads(Bucket=bucket.name)  # none left open
        job_sidecar = json.loads(bucket.read(video_key.replace(".mp4", ".json")))
        assert job_sidecar["request_id"] == request_id and job_sidecar["seed"] == made["seed"]

    for replica in ("a", "b"):
        folder = tmp_path / replica / "videos"
        assert not folder.exists() or not any(folder.iterdir()), list(folder.iterdir())


async def test_a_broken_upload_never_counts_as_saved(
    fake_fal: FakeFal, tmp_path: Path, postgres: PostgresServer, s3: S3Server
):
    """A bucket that does not exist refuses every put: the job still completes, on the host's link, and the
    ledger names no object."""
    missing = Bucket(s3.endpoint, "no-such-bucket")
    with serving(fake_fal, tmp_path, SEEDANCE_DATABASE_URL=postgres.fresh_database(), **missing.env) as served:
        made = await call(served, "generate_text_video", **CHEAP, wait_seconds=60)
        assert made["status"] == "completed"
        assert made["video"]["url"].startswith(fake_fal.cdn)  # no copy to link to: the host's own link
        detail = await call(served, "get_job", request_id=made["request_id"], wait_seconds=0)
        assert detail["video"]["url"] == made["video"]["url"]
    assert httpx2.get(f"{s3.endpoint}/no-such-bucket").status_code == 404


async def test_no_copy_replaces_another_and_each_name_keeps_its_bytes(
    bucket: Bucket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Two takes stored under one name (one prompt, one second) both survive, as in a folder."""
    from server.media.bucket import Bucket as Store

    for name, value in bucket.env.items():
        monkeypatch.setenv(name, value)
    store = Store(bucket.env["SEEDANCE_STORAGE_URL"])
    first, second = tmp_path / "first.mp4", tmp_path / "second.mp4"
    first.write_bytes(b"first take" * 1000)
    second.write_bytes(b"second take" * 1000)
    urls = [await store.put_new("2026-12-07 101500 a-kite.mp4", take) for take in (first, second)]
    assert [url.rsplit("/", 1)[1] for url in urls] == [
        "2026-12-07 101500 a-kite.mp4",
        "2026-12-07 101500 a-kite (2).mp4",
    ]
    assert [bucket.read(f"team/{url.rsplit('/', 1)[1]}") for url in urls] == [first.read_bytes(), second.read_bytes()]
    assert await store.put_once("2026-12-07 101500 a-kite.json", b"{}") is True
    assert await store.put_once("2026-12-07 101500 a-kite.json", b"{ }") is False  # kept, not replaced
    assert bucket.read("team/2026-12-07 101500 a-kite.json") == b"{}"
    assert await store.size(urls[1]) == second.stat().st_size and await store.size(urls[0] + "x") is None
