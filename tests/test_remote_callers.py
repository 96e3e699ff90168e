"""A remote caller over HTTP owns nothing on the server: not its disk, not its network.

Each test starts `seedance-mcp` in its own process and drives it with the SDK's client, over streamable
HTTP and, for contrast, over stdio, where the person owns the machine and nothing changes.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import ImageContent, ResourceLink

from tests.conftest import CANARY_KEY, RecordingClient, subprocess_env, text_of
from tests.fake_fal import FakeFal
from tests.fake_hosts import FakeArk, FakeRunflow
from tests.http_servers import mcp_over_http, start
from tests.loopback import Door
from tests.media import picture
from tests.test_stdio import command

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # servers in their own processes

CHEAP = {"prompt": "a lighthouse at dusk", "duration": "4", "resolution": "480p"}
PNG = picture((400, 300), (30, 60, 120), (240, 220, 30))


def _serve(fake: FakeFal, folder: Path, processes: list[subprocess.Popen[bytes]], **env: str) -> str:
    process, port = start(fake, folder, SEEDANCE_FAL_REST_URL=fake.url, **env)
    assert process.poll() is None, (folder / "stderr.log").read_text()
    processes.append(process)
    return f"http://127.0.0.1:{port}/mcp"


def _paths(folder: Path) -> dict[str, str]:
    """The issue's cases: what a remote caller might try, each pointing somewhere else on the server."""
    home = folder / "user-home"  # the server's HOME (subprocess_env)
    home.mkdir(parents=True, exist_ok=True)
    (home / "cat.png").write_bytes(PNG)
    (home / "notes.txt").write_text("not an image")
    (home / "x.png").write_bytes(PNG)
    return {
        "an image in the server's home": str(home / "cat.png"),
        "a missing file": str(home / "missing.png"),
        "a folder": str(home),
        "a text file": str(home / "notes.txt"),
        "/etc/passwd": "/etc/passwd",
        "file:///etc/hostname": "file:///etc/hostname",
        "~/x.png": "~/x.png",
    }


def _without(text: str, value: str) -> str:
    return text.replace(value, "<path>")


async def test_over_http_every_path_gets_one_answer_and_nothing_reaches_the_host(
    fake_fal: FakeFal, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
):
    url = _serve(fake_fal, tmp_path, processes)
    answers: dict[str, str] = {}
    async with mcp_over_http(url, timeout=60) as client:
        for case, value in _paths(tmp_path).items():
            result = await client.call_tool("animate_image", {**CHEAP, "image_url": value})
            assert result.is_error, case
            answers[case] = _without(text_of(result), value)
            listed = await client.call_tool("reference_video", {**CHEAP, "video_urls": [value], "image_urls": [value]})
            assert listed.is_error and "`video_urls[0]`" in text_of(listed) and "`image_urls[0]`" in text_of(listed)
    assert len(set(answers.values())) == 1, answers
    (answer,) = set(answers.values())
    assert "reads no file from its own disk" in answer
    assert all(word in answer for word in ("https://", "data:", "seedance://jobs/"))
    assert str(tmp_path) not in answer
    assert fake_fal.requests == [] and fake_fal.uploads == []


async def test_on_stdio_the_persons_own_files_work_as_before(fake_fal: FakeFal, tmp_path: Path):
    env = subprocess_env(
        tmp_path, FAL_KEY=CANARY_KEY, SEEDANCE_FAL_QUEUE_URL=fake_fal.url, SEEDANCE_FAL_REST_URL=fake_fal.url
    )
    image = _paths(tmp_path)["an image in the server's home"]
    with (tmp_path / "stderr.log").open("w") as errlog:
        params = StdioServerParameters(command=command(), env=env)
        async with RecordingClient(stdio_client(params, errlog=errlog)) as client:
            result = await client.call_tool("animate_image", {**CHEAP, "image_url": image})
    assert result.structured_content and result.structured_content["status"] == "completed", text_of(result)
    assert [name for name, _, _ in fake_fal.uploads] == ["cat.png"]
    assert result.structured_content["video"]["saved_path"].startswith(str(tmp_path))  # the disk is the person's


async def test_shared_folders_open_to_remote_callers_but_never_the_servers_own(
    fake_fal: FakeFal, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
):
    shared = tmp_path / "shared"
    for folder in (shared / ".private", shared / "videos", shared / "home"):
        folder.mkdir(parents=True)
    for place in ("cat.png", ".private/cat.png", "videos/cat.png", "home/cat.png", ".cat.png"):
        (shared / place).write_bytes(PNG)
    (shared / "link.png").symlink_to(tmp_path / "user-home" / "cat.png")
    _paths(tmp_path)
    env = {"SEEDANCE_SHARED_DIRS": str(shared), "SEEDANCE_OUTPUT_DIR": str(shared / "videos")}
    url = _serve(fake_fal, tmp_path, processes, SEEDANCE_HOME=str(shared / "home"), **env)
    async with mcp_over_http(url, timeout=60) as client:
        made = await client.call_tool("animate_image", {**CHEAP, "image_url": str(shared / "cat.png")})
        refused = {
            place: _without(text_of(await client.call_tool("animate_image", {**CHEAP, "image_url": value})), value)
            for place in (".private/cat.png", "videos/cat.png", "home/cat.png", ".cat.png", "link.png", "none.png")
            if (value := str(shared / place))
        }
    assert made.structured_content and made.structured_content["status"] == "completed", text_of(made)
    assert [name for name, _, _ in fake_fal.uploads] == ["cat.png"]
    assert len(set(refused.values())) == 1, refused
    assert "media folders its operator shared" in next(iter(refused.values()))


SERVER_PATH = re.compile(r"(file://|(?<![\w.:/-])/(tmp|root|home|work|etc|var|usr)/)")


def _dumped(*results: Any) -> str:
    return "\n".join(r.model_dump_json() for r in results)


async def test_no_answer_over_http_names_a_path_of_the_servers_disk(
    fake_fal: FakeFal, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
):
    """Previews (files on the server) and a paid job (saved copy, poster), every tool and resource that
    names them, and an error that speaks of a missing file."""
    preview = _serve(fake_fal, tmp_path / "preview", processes, SEEDANCE_PROVIDER="local", SEEDANCE_WAIT_SECONDS="600")
    paid = _serve(fake_fal, tmp_path / "paid", processes)
    seen: list[Any] = []
    async with mcp_over_http(preview, timeout=120) as client:
        shots = [await client.call_tool("generate_text_video", {**CHEAP, "prompt": f"shot {n}"}) for n in (1, 2)]
        ids = [str((shot.structured_content or {})["request_id"]) for shot in shots]
        film = await client.call_tool("make_film", {"request_ids": ids, "title": "dusk"})
        film_id = str((film.structured_content or {})["film_id"])
        seen += [*shots, film, await client.call_tool("list_films", {}), await client.call_tool("list_jobs", {})]
        seen += [await client.call_tool("get_job", {"request_id": ids[0]})]
        seen += [await client.call_tool("watch_job", {"request_id": ids[0]})]
        seen += [await client.call_tool("inspect_video", {"request_id": film_id, "frames": 2})]
        seen += [await client.read_resource(uri) for uri in ("seedance://jobs", f"seedance://jobs/{ids[0]}")]
        for saved in (tmp_path / "preview" / "home" / "previews").glob("*film*.mp4"):  # a film of previews
            saved.unlink()
        seen += [await client.call_tool("inspect_video", {"request_id": film_id})]  # the film's file is gone
    async with mcp_over_http(paid, timeout=60) as client:
        job = await client.call_tool("generate_text_video", CHEAP)
        seen += [
            job,
            await client.call_tool("get_job", {"request_id": str((job.structured_content or {})["request_id"])}),
        ]
    assert seen[-3].is_error and "is gone" in text_of(seen[-3])
    dump = _dumped(*seen)
    assert str(tmp_path) not in dump and not SERVER_PATH.search(dump), SERVER_PATH.search(dump)
    for shot in shots:
        video = (shot.structured_content or {})["video"]
        assert video["url"].startswith("seedance://jobs/") and "saved_path" not in json.dumps(
            {k: v for k, v in video.items() if v is not None}
        )
        assert any(isinstance(block, ImageContent) for block in shot.content)  # the poster still comes
    links = [block.uri for block in job.content if isinstance(block, ResourceLink)]
    assert links == [(job.structured_content or {})["video"]["url"]] and str(links[0]).startswith(fake_fal.cdn)
    assert any(isinstance(block, ImageContent) for block in job.content)


@asynccontextmanager
async def _stdio(folder: Path, **env: str) -> AsyncIterator[Client]:
    params = StdioServerParameters(command=command(), env=subprocess_env(folder, **env))
    with (folder / "stderr.log").open("w") as errlog:
        async with RecordingClient(stdio_client(params, errlog=errlog)) as client:
            yield client


def _spellings(port: int, port6: int) -> list[str]:
    return [
        f"https://127.0.0.1:{port}/a.png",
        f"https://localhost:{port}/a.png",
        f"https://[::1]:{port6}/a.png",
        f"https://0.0.0.0:{port}/a.png",
        f"https://2130706433:{port}/a.png",
        f"https://0x7f.0.0.1:{port}/a.png",
        f"https://127.1:{port}/a.png",
        f"https://[::ffff:127.0.0.1]:{port}/a.png",
    ]


@pytest.mark.parametrize("transport", ["stdio", "http"])
@pytest.mark.parametrize("backend", ["local", "fal", "runflow", "ark"])
async def test_no_caller_url_reaches_loopback_in_any_spelling(
    backend: str,
    transport: str,
    fake_fal: FakeFal,
    fake_runflow_server: FakeRunflow,
    fake_ark_server: FakeArk,
    tmp_path: Path,
    processes: list[subprocess.Popen[bytes]],
):
    fake_runflow_server.reset()
    fake_ark_server.reset()
    env = {
        "local": {"SEEDANCE_PROVIDER": "local"},
        "fal": {},
        "runflow": {"RUNFLOW_API_KEY": CANARY_KEY, "SEEDANCE_RUNFLOW_URL": fake_runflow_server.url},
        "ark": {"ARK_API_KEY": CANARY_KEY, "SEEDANCE_ARK_URL": fake_ark_server.base_url},
    }[backend]
    env = {**env, "SEEDANCE_PROVIDER": backend}
    open4, open6 = Door("127.0.0.1"), Door("::1")
    closed4, closed6 = Door("127.0.0.1"), Door("::1")
    closed4.close()
    closed6.close()
    client_of = (
        _stdio(
            tmp_path, FAL_KEY=CANARY_KEY, SEEDANCE_FAL_QUEUE_URL=fake_fal.url, SEEDANCE_FAL_REST_URL=fake_fal.url, **env
        )
        if transport == "stdio"
        else mcp_over_http(_serve(fake_fal, tmp_path, processes, **env), timeout=60)
    )
    answers: list[tuple[str, str]] = []
    async with client_of as client:
        for to_open, to_closed in zip(
            _spellings(open4.port, open6.port), _spellings(closed4.port, closed6.port), strict=True
        ):
            both = [
                await client.call_tool("animate_image", {**CHEAP, "image_url": url}) for url in (to_open, to_closed)
            ]
            assert all(result.is_error for result in both), text_of(both[0])
            answers.append((text_of(both[0]), text_of(both[1])))
    open4.close()
    open6.close()
    assert open4.connections == 0 and open6.connections == 0
    assert all(a == b for a, b in answers), answers  # an open port and a closed one answer alike
    assert all("which neither this server nor the video host fetches from" in a for a, _ in answers)
    assert fake_fal.requests == [] and fake_runflow_server.requests == [] and fake_ark_server.requests == []


async def test_a_path_the_person_gave_on_stdio_is_not_shown_to_a_remote_caller(
    fake_fal: FakeFal, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
):
    """The person's own job, made on stdio from a file of theirs, keeps a path of this disk in its arguments
    (the preview's copy of the file, as fal's jobs keep the CDN's); read over HTTP, the answer's last read
    takes it out, and the log says it had to."""
    image = _paths(tmp_path)["an image in the server's home"]
    async with _stdio(tmp_path, SEEDANCE_PROVIDER="local", SEEDANCE_WAIT_SECONDS="600") as client:
        made = await client.call_tool("animate_image", {**CHEAP, "image_url": image})
        request_id = str((made.structured_content or {})["request_id"])
        own = await client.read_resource(f"seedance://jobs/{request_id}")
    url = _serve(fake_fal, tmp_path, processes, SEEDANCE_PROVIDER="local")
    async with mcp_over_http(url, timeout=60) as client:
        record = await client.read_resource(f"seedance://jobs/{request_id}")
        got = await client.call_tool("get_job", {"request_id": request_id})
    assert f"file://{tmp_path}" in own.model_dump_json()  # on stdio the disk is the person's
    dump = _dumped(record, got)
    assert request_id in dump and str(tmp_path) not in dump
    assert "(a file on the server)" in dump
    assert "taken out of an answer to a remote caller" in (tmp_path / "stderr.log").read_text()
