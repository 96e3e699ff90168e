"""The job card in headless Chromium, inside a host page built on the official AppBridge.

The card runs in a sandboxed iframe under the spec's default policy plus what its resource declares; its
calls go to the real server over stdio. Videos come from another origin than the host page's, so a
policy mistake shows. Screenshots go to pytest's temporary folder, or to the folder given with `--screenshots`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.card_host import CardHost, text, video_state
from tests.conftest import CANARY_KEY, subprocess_env
from tests.fake_fal import FakeFal, Phase
from tests.media import file_of
from tests.test_stdio import command
from tests.test_webhooks import serving

pytestmark = pytest.mark.slow  # a browser and a server process per test

OpenHost = Callable[..., CardHost]


@pytest.fixture
def open_host(tmp_path: Path, chromium: str, ui_packages: Path) -> Iterator[OpenHost]:
    hosts: list[CardHost] = []

    def start(**env: str) -> CardHost:
        host = CardHost(command(), subprocess_env(tmp_path, **env), chromium, tmp_path / "driver.log")
        hosts.append(host)
        return host

    yield start
    for host in hosts:
        host.close()


def on_fal(fake: FakeFal, **extra: str) -> dict[str, str]:
    return {"FAL_KEY": CANARY_KEY, "SEEDANCE_FAL_QUEUE_URL": fake.url, **extra}


def screenshot(host: CardHost, name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    host.eval("(v => { v.muted = true; return v.play().then(() => true); })(document.getElementById('video'))")
    host.wait("(v => v.currentTime > 0.5 && (v.pause(), true))(document.getElementById('video'))")  # it plays
    folder = Path(request.config.getoption("--screenshots") or tmp_path)
    path = host.send("screenshot", path=str(folder / name))
    assert Path(path).stat().st_size > 10_000
    return Path(path)


def test_a_preview_plays_in_its_card_at_the_requested_length_and_size(
    open_host: OpenHost, request: pytest.FixtureRequest, tmp_path: Path
):
    host = open_host(SEEDANCE_PROVIDER="local")
    arguments = {
        "prompt": "a lighthouse at dusk, slow dolly in",
        "duration": "4",
        "resolution": "480p",
        "aspect_ratio": "16:9",
    }
    result = host.call("generate_text_video", arguments)
    assert result["structuredContent"]["status"] == "completed"
    opened = host.open("generate_text_video", arguments, result)
    assert opened["mimeType"] == "text/html;profile=mcp-app" and set(opened["appTools"]) == {"watch_job", "video_chunk"}
    played = host.wait(video_state("data:video/mp4;base64,"))
    assert "error" not in played, played
    assert (played["width"], played["height"]) == (864, 496) and abs(played["duration"] - 4) < 0.1
    assert host.eval(text("#status")) == "Preview ready"
    assert host.wait("document.querySelector('#facts').textContent.includes('864\u00d7496')")
    assert "Free preview" in host.eval(text("#price"))
    assert host.eval("document.getElementById('request-id').value") == result["structuredContent"]["request_id"]
    screenshot(host, "job-card.png", request, tmp_path)
    relayed = [event["name"] for event in host.events("relay")]
    assert sorted(relayed) == ["video_chunk", "watch_job"], relayed  # its one piece, once; its arguments, once
    assert not host.events("update-model-context"), "the model already had the finished result"
    assert not host.events("page-error")


def test_a_card_on_an_unfinished_job_follows_it_and_plays_it_with_no_call_from_the_model(
    open_host: OpenHost, fake_fal: FakeFal
):
    fake_fal.plan = [Phase("IN_PROGRESS", None, log="rendering frames 40/120")]
    host = open_host(**on_fal(fake_fal, SEEDANCE_MEDIA_ORIGINS=fake_fal.cdn))
    arguments = {"prompt": "a paper boat on a river", "duration": "5", "wait_seconds": 0}
    result = host.call("generate_text_video", arguments)
    request_id = result["structuredContent"]["request_id"]
    assert result["structuredContent"]["status"] in ("queued", "in_progress")
    host.open("generate_text_video", arguments, result)
    assert host.wait("document.getElementById('log').textContent") == "rendering frames 40/120"
    assert host.eval(text("#badge")).startswith("Generating")
    fake_fal.advance(request_id)
    played = host.wait(video_state(fake_fal.cdn))
    assert "error" not in played and played["src"].startswith(f"{fake_fal.cdn}/files/{request_id}/")
    told = host.wait_event("update-model-context")
    assert len(told) == 1
    [line] = told[0]["params"]["content"]
    assert request_id in line["text"] and f"/files/{request_id}/output.mp4" in line["text"]
    relayed = {event["name"] for event in host.events("relay")}
    assert relayed == {"watch_job"}, relayed  # the card followed it alone; the model called nothing more


def test_a_video_link_the_policy_refuses_still_plays_through_the_server(open_host: OpenHost, fake_fal: FakeFal):
    host = open_host(**on_fal(fake_fal))  # the fake's origin is not declared, so the sandbox refuses its link
    arguments = {"prompt": "a lantern in the snow", "duration": "4"}
    result = host.call("generate_text_video", arguments)
    assert result["structuredContent"]["video"]["url"].startswith(fake_fal.cdn)
    host.open("generate_text_video", arguments, result)
    played = host.wait(video_state("data:video/mp4;base64,"))
    assert "error" not in played and (played["width"], played["height"]) == (864, 496)
    assert {event["name"] for event in host.events("relay")} == {"watch_job", "video_chunk"}


def test_a_remote_callers_card_plays_the_video_from_the_servers_signed_link(
    chromium: str, ui_packages: Path, fake_fal: FakeFal, tmp_path: Path
):
    fake_fal.link_lifetime = 1  # dead once the server saved it: only the server's link can play
    with serving(fake_fal, tmp_path / "server") as served:
        host = CardHost(command(), {}, chromium, tmp_path / "driver.log", url=served.url)
        try:
            arguments = {"prompt": "a kite over the dunes", "duration": "4", "resolution": "480p"}
            result = host.call("generate_text_video", arguments)
            video = result["structuredContent"]["video"]
            assert video["url"].startswith(f"{served.public}/files/jobs/"), video
            opened = host.open("generate_text_video", arguments, result)
            assert served.public in opened["csp"]["resourceDomains"], opened["csp"]
            played = host.wait(video_state(f"{served.public}/files/jobs/"))
            assert "error" not in played and (played["width"], played["height"]) == (864, 496), played
            assert {event["name"] for event in host.events("relay")} == {"watch_job"}  # no video_chunk
        finally:
            host.close()


def test_a_failed_job_shows_its_reason_in_plain_words(open_host: OpenHost, fake_fal: FakeFal):
    fake_fal.outcome = "error"
    host = open_host(**on_fal(fake_fal))
    arguments = {"prompt": "a storm at sea"}
    result = host.call("generate_text_video", arguments)
    assert result["isError"] and result["structuredContent"]["status"] == "failed"
    host.open("generate_text_video", arguments, result)
    shown = host.wait(
        "document.getElementById('status').textContent.startsWith('Failed: ') && "
        "document.getElementById('status').textContent"
    )
    assert result["structuredContent"]["error"] in shown
    assert host.eval(text("#badge")) == "Failed"
    assert host.eval("document.getElementById('video').hidden") is True
    assert host.eval("document.getElementById('again').hidden") is False


def submits(home: Path) -> int:
    with sqlite3.connect(home / "jobs.sqlite3") as db:
        return int(db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])


def test_another_take_asks_with_the_price_then_starts_exactly_one_new_job(
    open_host: OpenHost, fake_fal: FakeFal, tmp_path: Path
):
    host = open_host(**on_fal(fake_fal, SEEDANCE_MEDIA_ORIGINS=fake_fal.cdn))
    arguments = {"prompt": "a hummingbird in slow motion", "duration": "5", "resolution": "480p"}
    result = host.call("generate_text_video", arguments)
    first = result["structuredContent"]["request_id"]
    price = host.call("estimate_cost", {"mode": "text-to-video", "duration": "5", "resolution": "480p"})
    cost = f"${price['structuredContent']['min_usd']:.2f}"
    host.open("generate_text_video", arguments, result)
    host.wait(video_state(fake_fal.cdn))

    host.eval("document.getElementById('again').focus()")  # by keyboard: Enter asks, Escape says no
    host.send("press", key="Enter")
    question = host.wait("!document.getElementById('ask').hidden && document.getElementById('ask-text').textContent")
    assert cost in question and "fal" in question and "billed" in question
    assert host.eval("document.activeElement.id") == "ask-yes"
    host.send("press", key="Escape")
    host.wait("document.getElementById('ask').hidden")
    assert fake_fal.count("submit") == 1

    host.click("#again")
    host.wait("!document.getElementById('ask').hidden")
    assert fake_fal.count("submit") == 1  # asking costs nothing
    host.click("#ask-yes")
    second = host.wait(f"(v => v && v !== {first!r} && v)(document.getElementById('request-id').value)")
    host.wait(video_state(f"{fake_fal.cdn}/files/{second}/"))
    assert fake_fal.count("submit") == 2 and submits(tmp_path / "home") == 2
    sent = fake_fal.job(second).input
    assert {key: sent[key] for key in arguments} == arguments  # the same arguments, as a new job
    told = host.wait_event("update-model-context")
    assert second in told[0]["params"]["content"][0]["text"]


def test_a_finished_draft_offers_its_1080p_finish_at_its_price_and_finishes_it(
    open_host: OpenHost, fake_fal: FakeFal, tmp_path: Path, request: pytest.FixtureRequest
):
    host = open_host(**on_fal(fake_fal, SEEDANCE_MEDIA_ORIGINS=fake_fal.cdn))
    arguments = {"prompt": "a kite over dunes", "model": "seedance-2.5", "draft": True, "duration": "4"}
    result = host.call("generate_text_video", arguments)
    draft = result["structuredContent"]
    price = f"${draft['finish_price_usd']['max']:.2f}"
    host.open("generate_text_video", arguments, result)
    host.wait(video_state(fake_fal.cdn))
    label = host.wait("(b => !b.hidden && b.textContent)(document.getElementById('finish'))")
    assert label == f"Finish at 1080p ({price})"
    screenshot(host, "job-card-draft.png", request, tmp_path)

    host.click("#finish")
    question = host.wait("!document.getElementById('ask').hidden && document.getElementById('ask-text').textContent")
    assert price in question and "fal" in question and "billed" in question
    assert fake_fal.count("submit") == 1  # asking costs nothing
    host.click("#ask-yes")
    final = host.wait(f"(v => v && v !== {draft['request_id']!r} && v)(document.getElementById('request-id').value)")
    host.wait(video_state(f"{fake_fal.cdn}/files/{final}/"))
    assert fake_fal.count("submit") == 2 and submits(tmp_path / "home") == 2
    assert fake_fal.job(final).input == {"draft_id": draft["draft_id"], "resolution": "1080p"}
    assert host.eval("document.getElementById('finish').hidden")  # the final is not a draft
    told = host.wait_event("update-model-context")
    assert final in told[0]["params"]["content"][0]["text"]


def test_continue_from_the_last_frame_asks_the_price_then_starts_the_next_shot_on_it(
    open_host: OpenHost, tmp_path: Path
):
    host = open_host(SEEDANCE_PROVIDER="local")
    arguments = {"prompt": "a paper boat on a pond, slow push-in", "duration": "4", "resolution": "480p"}
    result = host.call("generate_text_video", arguments)
    first = result["structuredContent"]["request_id"]
    host.open("generate_text_video", arguments, result)
    host.wait(video_state("data:"))

    host.click("#continue")
    host.wait("!document.getElementById('next').hidden")
    host.eval("document.getElementById('next-prompt').value = 'the boat drifts under a bridge'")
    host.click("#next-go")
    question = host.wait("!document.getElementById('ask').hidden && document.getElementById('ask-text').textContent")
    assert "last frame" in question and "free offline preview" in question
    assert submits(tmp_path / "home") == 1  # asking costs nothing
    host.click("#ask-yes")
    second = host.wait(f"(v => v && v !== {first!r} && v)(document.getElementById('request-id').value)")
    host.wait(video_state("data:"))
    job = host.call("get_job", {"request_id": second})["structuredContent"]
    assert job["mode"] == "image-to-video" and job["status"] == "completed"
    with sqlite3.connect(tmp_path / "home" / "jobs.sqlite3") as db:
        sent = json.loads(db.execute("SELECT arguments FROM jobs WHERE request_id = ?", (second,)).fetchone()[0])
    assert sent["prompt"] == "the boat drifts under a bridge"
    frame = tmp_path / "home" / "frames" / f"{first}-last.png"  # the first job's last frame, taken locally
    assert file_of(sent["image_url"]).read_bytes() == frame.read_bytes()  # the preview renders its copy
    told = host.wait_event("update-model-context")
    assert second in told[-1]["params"]["content"][0]["text"]


def test_the_card_follows_the_hosts_theme_and_fits_a_narrow_chat(
    open_host: OpenHost, request: pytest.FixtureRequest, tmp_path: Path
):
    host = open_host(SEEDANCE_PROVIDER="local")
    arguments = {"prompt": "neon rain over a night market", "duration": "4", "resolution": "480p"}
    result = host.call("generate_text_video", arguments)
    background = "getComputedStyle(document.body).backgroundColor"
    host.open("generate_text_video", arguments, result, hostContext={"theme": "dark"}, width=360)
    host.wait(video_state("data:"))
    assert host.wait(f"document.documentElement.dataset.theme === 'dark' && {background}") == "rgb(31, 32, 35)"
    assert host.eval("document.documentElement.scrollWidth") <= 360
    screenshot(host, "job-card-dark.png", request, tmp_path)
    host.send("host", context={"theme": "light"})
    assert host.wait(f"document.documentElement.dataset.theme === 'light' && {background}") == "rgb(255, 255, 255)"
    host.send(
        "host",
        context={
            "styles": {
                "variables": {"--color-background-primary": "rgb(250, 240, 230)", "--font-sans": "Georgia, serif"}
            }
        },
    )
    assert host.wait(f"{background} === 'rgb(250, 240, 230)' && getComputedStyle(document.body).fontFamily")
    assert "Georgia" in host.eval("getComputedStyle(document.body).fontFamily")


def test_cancel_asks_first_and_open_download_and_fullscreen_go_through_the_host(open_host: OpenHost, fake_fal: FakeFal):
    fake_fal.plan = [Phase("IN_QUEUE", None, queue_position=3)]
    host = open_host(**on_fal(fake_fal, SEEDANCE_MEDIA_ORIGINS=fake_fal.cdn))
    arguments = {"prompt": "a queue that will be cancelled", "wait_seconds": 0}
    held = host.call("generate_text_video", arguments)
    host.open("generate_text_video", arguments, held)
    assert host.wait("document.getElementById('status').textContent === 'Queued, position 3'")
    host.click("#cancel")
    assert "nothing is billed" in host.wait(
        "!document.getElementById('ask').hidden && document.getElementById('ask-text').textContent"
    )
    host.click("#ask-yes")
    assert host.wait("document.getElementById('badge').textContent === 'Cancelled'")
    assert fake_fal.job(held["structuredContent"]["request_id"]).cancelled
    assert "cancel_job" in {event["name"] for event in host.events("relay")}

    fake_fal.reset()
    done = host.call("generate_text_video", {"prompt": "a finished one"})
    url = done["structuredContent"]["video"]["url"]
    host.open("generate_text_video", {"prompt": "a finished one"}, done)
    host.wait(video_state(fake_fal.cdn))
    host.click("#open")
    assert host.wait_event("open-link")[0]["params"] == {"url": url}
    host.click("#download")
    [link] = host.wait_event("download-file")[0]["params"]["contents"]
    assert (link["type"], link["uri"], link["mimeType"]) == ("resource_link", url, "video/mp4")
    host.click("#fullscreen")
    assert host.wait_event("display-mode")[0]["params"] == {"mode": "fullscreen"}
    assert host.wait("document.getElementById('fullscreen').getAttribute('aria-pressed') === 'true'")


def test_a_call_refused_before_any_job_shows_why_and_offers_nothing_to_pay_for(open_host: OpenHost, fake_fal: FakeFal):
    host = open_host(**on_fal(fake_fal, SEEDANCE_MAX_USD_PER_JOB="1"))
    arguments = {"prompt": "a long take", "duration": "15"}
    refused = host.call("generate_text_video", arguments)
    assert refused["isError"] and "structuredContent" not in refused
    host.open("generate_text_video", arguments, refused)
    shown = host.wait(
        "document.getElementById('badge').textContent === 'No job' && document.getElementById('status').textContent"
    )
    assert "SEEDANCE_MAX_USD_PER_JOB" in shown
    assert host.eval("[...document.querySelectorAll('#actions button')].every(b => b.hidden)") is True
    assert fake_fal.count("submit") == 0
