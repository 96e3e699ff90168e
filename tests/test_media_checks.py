"""Media the hosts would refuse is refused here first, from its bytes, at a cost that does not grow with it."""

from __future__ import annotations

import base64
import dataclasses
import io
import struct
import wave
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import av
import numpy as np
import pytest
from mcp import Client
from PIL import Image

from server.settings import Settings
from server.trust import Trust
from tests.conftest import connect, subprocess_env, text_of
from tests.fake_fal import FakeFal
from tests.loopback import HttpsServer
from tests.media import picture
from tests.networks import LoopbackOnly, Resolver

pytestmark = pytest.mark.anyio

GOOD_PNG = picture((400, 300), (30, 120, 200), (250, 250, 250))


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(side: int = 12000) -> bytes:
    """A grey PNG of side x side pixels that is a few hundred KB on disk: its rows are all zeros."""
    deflate = zlib.compressobj(9)
    row = bytes(side + 1)
    data = b"".join(deflate.compress(row) for _ in range(side)) + deflate.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def jpeg(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.frombytes("RGB", size, np.random.default_rng(1).integers(0, 255, (*size[::-1], 3), np.uint8)).save(
        out, format="JPEG"
    )
    return out.getvalue()


def wav(seconds: float) -> bytes:
    """Silence at 8 kHz: 16 KB a second, so that a 30 s clip is still read whole from a URL."""
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(bytes(2 * int(8000 * seconds)))
    return out.getvalue()


def mp4(seconds: float, size: tuple[int, int] = (640, 640)) -> bytes:
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        for n in range(round(seconds * 24)):
            frame = av.VideoFrame.from_ndarray(np.full((size[1], size[0], 3), n * 9 % 255, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return out.getvalue()


def uri(kind: str, data: bytes) -> str:
    return f"data:{kind};base64," + base64.b64encode(data).decode()


REF = {"prompt": "@Image1 dances", "image_urls": ["https://e.com/1.png"]}
# tool, arguments (bytes become a file in the test's folder), words the refusal must hold
REFUSED = [
    ("animate_image", {"prompt": "x", "image_url": GOOD_PNG[:-40]}, ["`image_url`", "cut short or broken"]),
    ("animate_image", {"prompt": "x", "image_url": GOOD_PNG[:200]}, ["`image_url`", "cut short or broken"]),
    ("animate_image", {"prompt": "x", "image_url": jpeg((400, 300))[:-600]}, ["cut short or broken"]),
    ("animate_image", {"prompt": "x", "image_url": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8}, ["does not decode"]),
    ("animate_image", {"prompt": "x", "image_url": picture((1, 1), (0, 0, 0), (0, 0, 0))}, ["1x1", "300 to 6000 px"]),
    ("animate_image", {"prompt": "x", "image_url": picture((300, 3000), (9, 9, 9), (0, 0, 0))}, ["0.10", "0.4 to 2.5"]),
    (
        "animate_image",
        {"prompt": "x", "image_url": bomb_png()},
        ["more pixels than the hosts take", "at most 36,000,000 pixels"],
    ),
    (
        "reference_video",
        {**REF, "video_urls": [b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64]},
        ["`video_urls[0]`", "does not open"],
    ),
    ("reference_video", {**REF, "video_urls": [mp4(0.5)]}, ["`video_urls[0]`", "lasts 0.5 s", "2 to 15 s"]),
    ("reference_video", {**REF, "video_urls": [mp4(2, (200, 200))]}, ["200x200", "409,600"]),
    ("reference_video", {**REF, "video_urls": [mp4(8), mp4(8)]}, ["`video_urls`", "16.0 s together", "15 s"]),
    ("reference_video", {**REF, "audio_urls": [wav(0.1)]}, ["`audio_urls[0]`", "lasts 0.1 s"]),
    (
        "reference_video",
        {**REF, "audio_urls": [wav(16)]},
        ["`audio_urls[0]`", "lasts 16.0 s, and seedance-2.0 takes 2 to 15 s", 'or use model "seedance-2.5"'],
    ),
    (
        "reference_video",
        {**REF, "model": "seedance-2.5", "duration": "5", "audio_urls": [wav(20), wav(11)]},
        ["`audio_urls`", "31.0 s together", "30.2 s of audio in all"],
    ),
    ("reference_video", {**REF, "audio_urls": [wav(3)], "video_urls": [b"ID3" + bytes(64)]}, ["`video_urls[0]`"]),
    ("reference_video", {**REF, "prompt": "@Image1 meets @Image5"}, ["`prompt`", "@Image5", "holds 1 image"]),
    ("reference_video", {**REF, "prompt": "[Image1] to [Video1]"}, ["`prompt`", "[Video1]", "no video"]),
    ("reference_video", {**REF, "prompt": "@Image1 sings @audio2", "audio_urls": [wav(3)]}, ["@audio2"]),
]
TYPES = {b"\x89P": "image/png", b"\xff\xd8": "image/jpeg", b"RI": "audio/wav"}


ASSETS = "assets.test"  # a media host the operator allowed; it resolves, here, to the test's HTTPS server


class Inputs:
    """Bytes as a caller passes them: a local file, a data: URI, or a URL on the test's HTTPS server."""

    def __init__(self, how: str, folder: Path, https: HttpsServer) -> None:
        self.how, self.folder, self.https = how, folder, https

    def __call__(self, value: object, index: int) -> object:
        if isinstance(value, list):
            return [self(item, index * 10 + n) for n, item in enumerate(value)]
        if not isinstance(value, bytes):
            return value
        kind = TYPES.get(value[:2], "audio/mpeg" if value.startswith(b"ID3") else "video/mp4")
        name = f"input-{index}.{kind.split('/')[1]}"
        if self.how == "data-uri":
            return uri(kind, value)
        if self.how == "url":
            self.https.routes[f"/{name}"] = (200, {"Content-Type": kind}, value)
            return f"https://{ASSETS}:{self.https.port}/{name}"
        (self.folder / name).write_bytes(value)
        return str(self.folder / name)


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Client]:
    """The server with the test's media host allowed and resolving to loopback, as an operator sets it."""
    allowed = dataclasses.replace(settings, private_media_hosts=(ASSETS,))
    resolver = Resolver()
    resolver.map(ASSETS, ["127.0.0.1"])
    async with connect(allowed, Trust.of(allowed, resolver=resolver, network=LoopbackOnly())) as client:
        yield client


@pytest.mark.parametrize("how", ["file", "data-uri", "url"])
@pytest.mark.parametrize(("tool", "arguments", "expected"), REFUSED)
async def test_media_a_host_would_refuse_costs_nothing(
    settings: Settings,
    fake_fal: FakeFal,
    tmp_path: Path,
    https: HttpsServer,
    tool: str,
    arguments: dict[str, object],
    expected: list[str],
    how: str,
):
    given = Inputs(how, tmp_path, https)
    call = {name: given(value, n) for n, (name, value) in enumerate(arguments.items())}
    async with serving(settings) as client:
        result = await client.call_tool(tool, call)
    assert result.is_error, text_of(result)
    for words in expected:
        assert words in text_of(result), f"{words!r} not in: {text_of(result)}"
    assert fake_fal.count() == 0 and fake_fal.uploads == []


async def test_media_the_hosts_take_goes_through(settings: Settings, fake_fal: FakeFal, tmp_path: Path):
    call = {
        "prompt": "@Image1 and [Image2] move like @Video1 to @Audio1",
        "image_urls": [uri("image/png", GOOD_PNG), uri("image/jpeg", jpeg((600, 400)))],
        "video_urls": [uri("video/mp4", mp4(2.5))],
        "audio_urls": [uri("audio/wav", wav(3))],
        "duration": "5",
    }
    async with connect(settings) as client:
        result = await client.call_tool("reference_video", call)
    assert not result.is_error, text_of(result)
    assert fake_fal.count("submit") == 1


async def test_seedance_2_5_takes_reference_clips_of_up_to_30_s(settings: Settings, fake_fal: FakeFal):
    call = {
        "prompt": "@Image1 walks to @Audio1",
        "model": "seedance-2.5",
        "image_urls": [uri("image/png", GOOD_PNG)],
        "audio_urls": [uri("audio/wav", wav(20))],
        "duration": "5",
    }
    async with connect(dataclasses.replace(settings, max_usd_per_job=100, confirm_above_usd=100)) as client:
        result = await client.call_tool("reference_video", call)
    assert not result.is_error, text_of(result)
    assert fake_fal.count("submit") == 1 and fake_fal.refused == []


# -- URLs: judged by their first 512 KB, read once through the guarded client --------------------------


def noisy_png(size: tuple[int, int]) -> bytes:
    """A PNG that does not compress: well over the 512 KB a URL's check reads."""
    pixels = np.random.default_rng(3).integers(0, 255, (size[1], size[0], 3), np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def route(https: HttpsServer, path: str, status: int, body: bytes, kind: str = "image/png") -> str:
    https.routes[path] = (status, {"Content-Type": kind}, body)
    return f"https://{ASSETS}:{https.port}{path}"


@pytest.mark.parametrize("ranges", [True, False], ids=["ranged", "server-ignores-ranges"])
async def test_a_long_image_url_is_judged_by_its_start_and_goes_through(
    settings: Settings, fake_fal: FakeFal, https: HttpsServer, ranges: bool
):
    https.ranges = ranges
    photo = noisy_png((1200, 800))
    assert len(photo) > 2 * 1024 * 1024
    url = route(https, "/photo.png", 200, photo)
    async with serving(settings) as client:
        result = await client.call_tool("animate_image", {"prompt": "slow push-in", "image_url": url})
    assert not result.is_error, text_of(result)
    assert fake_fal.count("submit") == 1 and https.ranges_asked == ["bytes=0-524287"]
    if ranges:
        assert https.sent == 512 * 1024  # the image itself is left for the host to fetch


async def test_a_url_is_refused_for_what_its_start_shows(settings: Settings, fake_fal: FakeFal, https: HttpsServer):
    urls = {
        "wide": route(https, "/banner.png", 200, noisy_png((3200, 310))),  # 10:1, header read from the start
        "page": route(https, "/share/abc", 200, b"<!doctype html><title>Photo</title>" * 100, "text/html"),
        "gone": route(https, "/old.png", 404, b"not found"),
        "huge": route(https, "/huge.png", 200, GOOD_PNG + bytes(31 * 1024 * 1024)),
    }
    async with serving(settings) as client:
        results = {
            name: await client.call_tool("animate_image", {"prompt": "x", "image_url": url})
            for name, url in urls.items()
        }
    text = {name: text_of(result) for name, result in results.items()}
    assert all(result.is_error for result in results.values()), text
    assert "banner.png is 3200x310, a width/height of 10.32" in text["wide"]
    assert "abc is not a format the API takes (its server calls it text/html)" in text["page"]
    assert "Fix: link the file itself (JPEG, PNG, WebP, GIF or AVIF), not a page that shows it" in text["page"]
    assert "answered HTTP 404: there is no file there" in text["gone"]
    assert "huge.png holds 31.0 MB, above the 30 MB allowed for an image" in text["huge"]
    assert fake_fal.count() == 0


async def test_a_url_this_server_cannot_read_is_left_to_the_host(
    settings: Settings, fake_fal: FakeFal, https: HttpsServer
):
    """An error status that may be this server's alone (a 403 for its address, a 500) refuses nothing."""
    calls = [
        {"prompt": "x", "image_url": route(https, "/private.png", 403, b"forbidden")},
        {"prompt": "x", "image_url": route(https, "/flaky.png", 500, b"oops")},
        {"prompt": "x", "image_url": "https://unknown-name.example/a.png"},  # no address here
    ]
    async with serving(settings) as client:
        results = [await client.call_tool("animate_image", call) for call in calls]
    assert not any(result.is_error for result in results), [text_of(r) for r in results]
    assert fake_fal.count("submit") == 3


async def test_several_urls_are_read_together_and_each_wrong_one_is_named(
    settings: Settings, fake_fal: FakeFal, https: HttpsServer
):
    images = [route(https, f"/{n}.png", 200, GOOD_PNG) for n in range(3)]
    images[1] = route(https, "/tiny.png", 200, picture((1, 1), (0, 0, 0), (0, 0, 0)))
    audio = route(https, "/click.wav", 200, wav(0.1), "audio/wav")
    call = {"prompt": "@Image1 @Image2 @Image3 @Audio1", "image_urls": images, "audio_urls": [audio]}
    async with serving(settings) as client:
        result = await client.call_tool("reference_video", call)
    lines = [line for line in text_of(result).splitlines() if line.startswith("- ")]
    assert [line.split(":")[0] for line in lines] == ["- `image_urls[1]`", "- `audio_urls[0]`"], lines
    assert "tiny.png is 1x1" in lines[0] and "click.wav lasts 0.1 s" in lines[1]
    assert len(https.requests) == 4 and fake_fal.count() == 0


def _peak_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1])


def _server_pid(home: Path) -> int:
    """The stdio server's process, found by the home folder only it was given."""
    marker = f"SEEDANCE_HOME={home}".encode()
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker in (proc / "environ").read_bytes().split(b"\0"):
                return int(proc.name)
        except OSError:
            continue
    raise AssertionError("the server's process was not found")


@pytest.mark.slow
async def test_a_pixel_bomb_is_refused_before_it_is_decoded(tmp_path: Path):
    """On the preview backend over stdio, as a desktop client runs it: the peak memory barely moves."""
    from mcp import StdioServerParameters
    from mcp.client.stdio import stdio_client

    from tests.conftest import RecordingClient
    from tests.test_stdio import command

    env = subprocess_env(tmp_path)
    (tmp_path / "user-home").mkdir()
    bomb = tmp_path / "user-home" / "bomb.png"
    bomb.write_bytes(bomb_png())
    with (tmp_path / "stderr.log").open("w") as errlog:
        server = stdio_client(StdioServerParameters(command=command(), env=env), errlog=errlog)
        async with RecordingClient(server) as client:
            await client.call_tool("animate_image", {"prompt": "warm up", "image_url": uri("image/png", GOOD_PNG)})
            pid = _server_pid(Path(env["SEEDANCE_HOME"]))
            before = _peak_kb(pid)
            for value in (uri("image/png", bomb.read_bytes()), str(bomb)):
                result = await client.call_tool("animate_image", {"prompt": "x", "image_url": value})
                assert result.is_error and "at most 36,000,000 pixels" in text_of(result), text_of(result)
            grown = _peak_kb(pid) - before
    assert grown < 50 * 1024, f"peak memory grew by {grown / 1024:.0f} MB"
