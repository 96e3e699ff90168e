"""`seedance-mcp demo`, run as a person runs it from the README."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import CANARY_KEY, HANG_SECONDS, subprocess_env
from tests.fake_fal import FakeFal
from tests.media import probe
from tests.test_stdio import command

pytestmark = pytest.mark.slow  # the server and its client in their own processes


def demo(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`seedance-mcp demo` as a person runs it, with no terminal to answer a question."""
    return subprocess.run(
        [command(), "demo", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
        stdin=subprocess.DEVNULL,
    )


def run_demo(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return demo(subprocess_env(home.parent, SEEDANCE_HOME=str(home), **env), *args)


def saved(done: subprocess.CompletedProcess[str]) -> Path:
    """The file the demo says it made."""
    return Path(next(line for line in done.stdout.splitlines() if "file:" in line).split("file:")[1].strip())


def test_the_demo_without_a_key_renders_a_preview_and_says_where_it_is(tmp_path: Path):
    done = run_demo(tmp_path, "a red kite over the sea", "--duration", "4", "--resolution", "480p")
    assert done.returncode == 0, done.stderr
    path = saved(done)
    video = probe(path)
    assert (video.width, video.height, video.codecs) == (864, 496, {"video": "h264", "audio": "aac"})
    assert abs(video.duration - 4) <= 1 / 24
    assert "picture:  864x496 at 24 fps" in done.stdout and "duration: 4.00 s" in done.stdout
    assert "not Seedance output" in done.stdout
    assert "100% done" in done.stderr  # the progress drawn from the notifications


def test_the_demo_leaves_the_persons_data_folder_alone(tmp_path: Path):
    """Run as the README says, with no SEEDANCE_HOME: the preview and its ledger go to a folder of their own,
    the same one every run, so that trying it twice leaves one folder behind, not two."""
    environment = subprocess_env(tmp_path, TMPDIR=str(tmp_path / "tmp"))
    del environment["SEEDANCE_HOME"]
    (tmp_path / "tmp").mkdir()
    made = []
    for _ in range(2):
        done = demo(environment, "--duration", "4", "--resolution", "480p")
        assert done.returncode == 0, done.stderr
        made.append(saved(done))
    assert all(path.is_file() and path.is_relative_to(tmp_path / "tmp") for path in made)
    assert not (tmp_path / "user-home" / ".local").exists()  # the data folder the server would default to
    assert [folder.name for folder in (tmp_path / "tmp").iterdir()] == [made[0].relative_to(tmp_path / "tmp").parts[0]]


def test_the_demo_on_fal_asks_first_and_does_nothing_without_an_answer(tmp_path: Path, fake_fal: FakeFal):
    # the shipped $1 threshold: the demo's own question is the user's yes, passed on as confirm_cost
    env = {"FAL_KEY": CANARY_KEY, "SEEDANCE_FAL_QUEUE_URL": fake_fal.url, "SEEDANCE_CONFIRM_ABOVE_USD": "1"}
    refused = run_demo(tmp_path, "--duration", "4", **env)
    assert refused.returncode == 2
    assert "costs" in refused.stderr and "$1.21" in refused.stderr and "--yes" in refused.stderr
    assert fake_fal.count("submit") == 0

    done = run_demo(tmp_path, "--duration", "4", "--yes", **env)
    assert done.returncode == 0, done.stderr
    assert "url:      " + fake_fal.cdn in done.stdout
    assert fake_fal.count("submit") == 1
    assert CANARY_KEY not in done.stdout + done.stderr + (tmp_path / "demo-server.log").read_text()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--end-image", "x.png"], "--end-image needs --image"),
        (["--image", "missing.png"], "--image: no such file"),
        (["--image", "notes.png"], "--image: notes.png is not an image the API takes (JPEG, PNG"),
        (["--duration", "3"], "argument --duration: invalid choice: '3'"),
    ],
)
def test_the_demo_refuses_bad_options_in_a_persons_words(tmp_path: Path, args: list[str], words: str):
    (tmp_path / "notes.png").write_text("not a picture")
    done = subprocess.run(
        [command(), "demo", *args],
        env=subprocess_env(tmp_path, SEEDANCE_HOME=str(tmp_path / "home")),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2 and words in done.stderr, done.stderr
    assert "call " not in done.stderr and not (tmp_path / "home" / "jobs.sqlite3").exists()
