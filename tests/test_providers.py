"""Every tool through every paid host: the same calls, progress and result shape on fal, Runflow and ModelArk.

Each test runs once per host against that host's fake (see `tests/hosts.py`); only what the host was
sent is read in its own wire format. Host-specific behaviour is tested at the end.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from mcp.types import ImageContent, ResourceLink

from server.jobs.views import JobView
from server.ledger.sqlite import SqliteLedger
from server.settings import Settings
from tests.conftest import CANARY_KEY, ProgressLog, connect, read_json, text_of
from tests.fake_hosts import FakeArk, FakeRunflow
from tests.hosts import Host
from tests.media import picture

pytestmark = pytest.mark.anyio

FIVE_SECONDS = {"prompt": "An octopus plays football", "duration": "5", "aspect_ratio": "16:9"}
PRICE = {"fal": 1.512, "runflow": 1.512, "ark": 0.756}  # 5 s of 720p 16:9, standard: 108,000 tokens
# A finished job costs what it made: each fake links the same 864x496, 4 s clip, 40,176 tokens at 720p's rate.
MADE = {"fal": 0.562464, "runflow": 0.562464, "ark": 0.281232}


async def test_a_text_video_streams_progress_and_returns_the_same_shape_everywhere(host: Host, settings: Settings):
    log = ProgressLog()
    host.hold_generating()

    async def follow(progress: float, total: float | None, message: str | None) -> None:
        generating = [m for m in log.messages if m and m.startswith("generating")]
        await log(progress, total, message)
        if message and message.startswith("generating") and not generating:
            host.release()  # seen generating, once: now it may finish

    async with connect(host.settings(settings)) as client:
        result = await client.call_tool("generate_text_video", FIVE_SECONDS, progress_callback=follow)
    job = result.structured_content
    assert job is not None and job["status"] == "completed", text_of(result)
    assert set(job) == set(JobView.model_fields) and job["provider"] == host.name
    assert job["estimated_cost_usd"] == {"min": MADE[host.name], "max": MADE[host.name]}
    assert job["price_basis"].split()[0] in ("fal.ai", "Runflow's", "BytePlus")
    assert log.values == sorted(log.values) and log.values[-1] == 100
    assert any(m and m.startswith("queued") for m in log.messages) and log.messages[-1] == "done"
    assert any(m and m.startswith("generating") for m in log.messages)
    saved = Path(job["video"]["saved_path"])
    assert saved.read_bytes() == host.fake.video  # downloaded from the host's URL and kept
    assert [b.uri for b in result.content if isinstance(b, ResourceLink)] == [job["video"]["url"], saved.as_uri()]
    assert any(isinstance(b, ImageContent) for b in result.content)
    assert host.sent().prompt == "An octopus plays football" and host.submits() == 1


async def test_animate_image_sends_the_first_and_last_frames(host: Host, settings: Settings):
    call = {"prompt": "slow push-in", "image_url": "https://e.com/a.jpg", "end_image_url": "https://e.com/b.png"}
    async with connect(host.settings(settings)) as client:
        seed = {} if host.name == "fal" else {"seed": 7}  # fal's 2.0 inputs have no seed
        result = await client.call_tool("animate_image", {**call, **seed})
    assert result.structured_content and result.structured_content["status"] == "completed", text_of(result)
    assert isinstance(result.structured_content["seed"], int)
    assert result.structured_content["seed"] == 7 or not seed
    sent = host.sent()
    assert (sent.first_frame, sent.last_frame, sent.images) == ("https://e.com/a.jpg", "https://e.com/b.png", ())


async def test_reference_video_runs_where_the_host_has_it_and_is_refused_unsent_where_not(
    host: Host, settings: Settings
):
    call = {
        "prompt": "The dancer from @Image1 repeats the moves of @Video1 to @Audio1",
        "image_urls": ["https://e.com/dancer.png"],
        "video_urls": ["https://e.com/moves.mp4"],
        "audio_urls": ["https://e.com/beat.mp3"],
        "duration": "10",
        "aspect_ratio": "16:9",
    }
    async with connect(host.settings(settings)) as client:
        result = await client.call_tool("reference_video", call)
    if host.name == "runflow":
        assert result.is_error and "no Seedance 2.0 reference-to-video model" in text_of(result)
        assert host.fake.count() == 0
        return
    assert result.structured_content and result.structured_content["status"] == "completed", text_of(result)
    sent = host.sent()
    assert (sent.images, sent.videos, sent.audios) == (
        ("https://e.com/dancer.png",),
        ("https://e.com/moves.mp4",),
        ("https://e.com/beat.mp3",),
    )
    assert sent.first_frame is None


async def test_a_job_that_outlasts_the_call_is_finished_by_get_job_and_listed(host: Host, settings: Settings):
    async with connect(host.settings(settings)) as client:
        started = await client.call_tool("generate_text_video", {**FIVE_SECONDS, "wait_seconds": 0})
        assert started.structured_content and started.structured_content["status"] in ("queued", "in_progress")
        request_id = started.structured_content["request_id"]
        assert f'get_job with request_id="{request_id}"' in text_of(started)
        done = await client.call_tool("get_job", {"request_id": request_id})
        listed = await client.call_tool("list_jobs", {"status": "completed"})
        record = await read_json(client, f"seedance://jobs/{request_id}")
    assert done.structured_content and done.structured_content["status"] == "completed", text_of(done)
    assert listed.structured_content and [j["request_id"] for j in listed.structured_content["jobs"]] == [request_id]
    assert record["provider"] == host.name and [e["event"] for e in record["events"]][-1] == "completed"
    assert host.submits() == 1


async def test_cancel_job_cancels_a_queued_job_at_the_host(host: Host, settings: Settings):
    host.hold()
    async with connect(host.settings(settings)) as client:
        started = await client.call_tool("generate_text_video", {**FIVE_SECONDS, "wait_seconds": 0})
        assert started.structured_content is not None
        cancelled = await client.call_tool("cancel_job", {"request_id": started.structured_content["request_id"]})
    assert cancelled.structured_content and cancelled.structured_content["status"] == "cancelled"
    assert "nothing is billed" in text_of(cancelled) and host.cancelled_there()


async def test_a_failed_job_is_a_tool_error_in_words_the_model_can_act_on(host: Host, settings: Settings):
    host.fail()
    async with connect(host.settings(settings)) as client:
        result = await client.call_tool("generate_text_video", FIVE_SECONDS)
    assert result.is_error and host.failure in text_of(result), text_of(result)
    assert result.structured_content and result.structured_content["status"] == "failed"


async def test_estimate_cost_uses_the_host_that_generates_unless_told_another(host: Host, settings: Settings):
    args = {"mode": "text-to-video", "duration": "5", "aspect_ratio": "16:9"}
    async with connect(host.settings(settings)) as client:
        own = await client.call_tool("estimate_cost", args)
        on_ark = await client.call_tool("estimate_cost", {**args, "provider": "ark"})
    assert own.structured_content and own.structured_content["provider"] == host.name
    assert own.structured_content["max_usd"] == PRICE[host.name]
    assert on_ark.structured_content and on_ark.structured_content["max_usd"] == PRICE["ark"]
    assert host.fake.count() == 0


async def test_a_local_image_reaches_the_host_in_a_form_it_reads(host: Host, settings: Settings, tmp_path: Path):
    image = tmp_path / "start.png"
    png = picture((400, 300), (200, 120, 40), (250, 250, 250))
    image.write_bytes(png)
    async with connect(host.settings(settings)) as client:
        result = await client.call_tool("animate_image", {"prompt": "sunrise", "image_url": str(image)})
    assert result.structured_content and result.structured_content["status"] == "completed", text_of(result)
    sent = host.sent().first_frame or ""
    if host.name == "fal":
        assert sent.startswith(f"{host.fake.url}/cdn/files/")  # uploaded to fal's storage
    else:
        assert sent.startswith("data:image/png;base64,")  # these hosts take inline images
    assert str(tmp_path) not in sent


async def test_a_rejected_key_names_the_setting_without_printing_the_key(host: Host, settings: Settings):
    wrong = "wrong-key-5c4d3e:2b1a0f9e8d7c"
    async with connect(host.settings(settings, key=wrong)) as client:
        result = await client.call_tool("generate_text_video", FIVE_SECONDS)
    text = text_of(result)
    assert result.is_error and host.key_variable in text and wrong not in text and "2b1a0f9e8d7c" not in text


# -- what only one host does ---------------------------------------------------------------------------


@pytest.fixture
def ark(settings: Settings, fake_ark_server: FakeArk) -> Settings:
    fake_ark_server.reset()
    return dataclasses.replace(
        settings, fal_key=None, ark_key=CANARY_KEY, provider="ark", ark_url=fake_ark_server.base_url
    )


async def test_ark_gets_auto_as_adaptive_and_references_named_its_way(ark: Settings, fake_ark_server: FakeArk):
    call = {"prompt": "@Image1 waves at @Image2", "image_urls": ["https://e.com/1.png", "https://e.com/2.png"]}
    async with connect(ark) as client:
        result = await client.call_tool("reference_video", {**call, "model": "seedance-2.0-fast", "end_user_id": "u-7"})
    assert result.structured_content and result.structured_content["status"] == "completed", text_of(result)
    body = fake_ark_server.only_job().body
    assert body["model"] == "dreamina-seedance-2-0-fast-260128"
    assert (body["ratio"], body["duration"], body["safety_identifier"]) == ("adaptive", -1, "u-7")
    assert body["content"][0] == {"type": "text", "text": "[Image 1] waves at [Image 2]"}
    assert result.structured_content["endpoint"] == "dreamina-seedance-2-0-fast-260128"


async def test_ark_refuses_a_local_reference_video_before_anything_is_read_or_sent(
    ark: Settings, fake_ark_server: FakeArk, tmp_path: Path, clip: bytes
):
    moves = tmp_path / "moves.mp4"
    moves.write_bytes(clip)
    call = {"prompt": "@Image1 dances like @Video1", "image_urls": ["https://e.com/1.png"], "video_urls": [str(moves)]}
    async with connect(ark) as client:
        result = await client.call_tool("reference_video", call)
    assert result.is_error and "`video_urls[0]`" in text_of(result) and "only as public URLs" in text_of(result)
    assert fake_ark_server.count() == 0


async def test_ark_moderation_at_submit_is_explained(ark: Settings, fake_ark_server: FakeArk):
    async with connect(ark) as client:
        result = await client.call_tool(
            "animate_image", {"prompt": "a real person", "image_url": "https://e.com/p.jpg"}
        )
    assert (
        result.is_error and "seems to show a real person" in text_of(result) and "PrivacyInformation" in text_of(result)
    )
    assert fake_ark_server.jobs == {}


async def test_ark_never_deletes_a_finished_task_and_will_not_stop_a_running_one(
    ark: Settings, fake_ark_server: FakeArk
):
    fake_ark_server.plan = [fake_ark_server.plan[0], type(fake_ark_server.plan[0])("running", None)]
    async with connect(ark) as client:
        started = await client.call_tool("generate_text_video", {**FIVE_SECONDS, "wait_seconds": 0.3})
        assert started.structured_content and started.structured_content["status"] == "in_progress"
        request_id = started.structured_content["request_id"]
        refused = await client.call_tool("cancel_job", {"request_id": request_id})
        fake_ark_server.advance(request_id)
        done = await client.call_tool("get_job", {"request_id": request_id})
        too_late = await client.call_tool("cancel_job", {"request_id": request_id})
    assert "does not stop a job that is already generating" in text_of(refused)
    assert done.structured_content and done.structured_content["status"] == "completed"
    assert "already completed" in text_of(too_late)
    assert fake_ark_server.count("delete") == 0 and not fake_ark_server.only_job().deleted
    ledger = SqliteLedger(ark.ledger_path)
    events = [e.event for e in await ledger.events(request_id)]
    await ledger.close()
    assert "cancel_refused" in events


def test_the_first_host_with_a_key_is_used_unless_one_is_named():
    assert Settings.from_env({"RUNFLOW_API_KEY": "r"}).provider == "runflow"
    assert Settings.from_env({"ARK_API_KEY": "a", "RUNFLOW_API_KEY": "r"}).provider == "runflow"
    assert Settings.from_env({"ARK_API_KEY": "a", "FAL_KEY": "f"}).provider == "fal"
    assert Settings.from_env({"ARK_API_KEY": "a", "FAL_KEY": "f", "SEEDANCE_PROVIDER": "ark"}).provider == "ark"
    assert Settings.from_env({"ARK_API_KEY": "a"}).ark_key == "a"


async def test_a_named_host_without_its_key_says_which_setting_is_missing(tmp_path: Path, fake_runflow_server):
    named = Settings(provider="runflow", home=tmp_path / "home")
    async with connect(named) as client:
        result = await client.call_tool("generate_text_video", FIVE_SECONDS)
    assert result.is_error and "RUNFLOW_API_KEY is not set" in text_of(result)


async def test_runflow_jobs_stay_followable_after_the_active_host_changes(
    settings: Settings, fake_runflow_server: FakeRunflow
):
    fake_runflow_server.reset()
    runflow = dataclasses.replace(
        settings, fal_key=None, runflow_key=CANARY_KEY, provider="runflow", runflow_url=fake_runflow_server.url
    )
    async with connect(dataclasses.replace(runflow, wait_seconds=0)) as client:
        started = await client.call_tool("generate_text_video", FIVE_SECONDS)
    assert started.structured_content is not None
    both = dataclasses.replace(runflow, fal_key=settings.fal_key, provider="fal")
    async with connect(both) as client:
        done = await client.call_tool("get_job", {"request_id": started.structured_content["request_id"]})
    assert done.structured_content and done.structured_content["status"] == "completed", text_of(done)
    assert done.structured_content["provider"] == "runflow"
