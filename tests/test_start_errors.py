"""A setting the server cannot start with: one line naming it and what to do, exit code 2, no traceback."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

import pytest

from tests.conftest import subprocess_env
from tests.test_stdio import command

pytestmark = pytest.mark.slow  # the server in its own process


def _start(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [command()],
        env=subprocess_env(tmp_path, **env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_shared_ledger_without_its_extra_names_the_pip_install(tmp_path: Path):
    """The postgres extra missing, as on a machine that installed only the package: its modules do not import."""
    for name in ("psycopg", "psycopg_pool"):
        (tmp_path / "missing" / name).mkdir(parents=True)
        (tmp_path / "missing" / name / "__init__.py").write_text(f'raise ImportError("No module named {name!r}")\n')
    done = _start(
        tmp_path,
        SEEDANCE_DATABASE_URL="postgresql://seedance@db.internal/seedance",
        PYTHONPATH=str(tmp_path / "missing"),
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "seedance-mcp: SEEDANCE_DATABASE_URL needs the postgres extra, which is not installed: "
        "pip install 'seedance-mcp[postgres]' (or uv tool install 'seedance-mcp[postgres]')"
    ]


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("SEEDANCE_WAIT_SECONDS", "soon", "SEEDANCE_WAIT_SECONDS='soon' is not a number from 0 to 600"),
        ("SEEDANCE_MAX_USD_PER_JOB", "-3", "SEEDANCE_MAX_USD_PER_JOB='-3' is not a number from 0 to 10000"),
        ("SEEDANCE_PROVIDER", "replicate", "SEEDANCE_PROVIDER='replicate' is not one of fal, runflow, ark, local"),
        ("SEEDANCE_FAL_REGION", "eu", "SEEDANCE_FAL_REGION='eu' is not one of global, us"),
        ("SEEDANCE_SHARED_DIRS", "media", "SEEDANCE_SHARED_DIRS holds 'media', which is not an absolute path"),
        ("SEEDANCE_REQUEST_STATE_KEYS", "hunter2-secret", "SEEDANCE_REQUEST_STATE_KEYS entry 1 is 14 bytes"),
    ],
)
def test_a_bad_value_names_the_setting_and_what_is_allowed(tmp_path: Path, name: str, value: str, words: str):
    done = _start(tmp_path, **{name: value})
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert words in line
    if "KEYS" in name:
        assert value not in line  # a secret is never echoed


def _folders(tmp_path: Path) -> dict[str, Path]:
    """Folders no server can write to, even run as root: one under a file, one that is a file, one in /proc."""
    (tmp_path / "a-file").write_text("not a folder")
    return {
        "under a file": tmp_path / "a-file" / "seedance",
        "a file": tmp_path / "a-file",
        "in /proc": Path("/proc/seedance-mcp-test"),
    }


@pytest.mark.parametrize("setting", ["SEEDANCE_HOME", "SEEDANCE_OUTPUT_DIR"])
@pytest.mark.parametrize("case", ["under a file", "a file", "in /proc"])
def test_an_unusable_folder_stops_the_server_and_the_demo_in_one_line(tmp_path: Path, setting: str, case: str):
    folder = _folders(tmp_path)[case]
    for argv in ([command()], [command(), "demo"]):
        done = subprocess.run(
            argv,
            env=subprocess_env(tmp_path, **{setting: str(folder)}),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith(f"seedance-mcp: {setting}='{folder}' is not a folder this server can write to: ")
        assert f"Set {setting} to a folder you can write" in line
    assert not Path("/proc/seedance-mcp-test").exists()


def test_a_short_http_token_is_refused_with_a_command_that_makes_a_good_one(tmp_path: Path):
    done = _start(tmp_path, SEEDANCE_HTTP_TOKEN="1")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "SEEDANCE_HTTP_TOKEN is 1 characters; it must be at least 32" in line
    assert "secrets.token_hex(32)" in line


def test_a_misspelt_setting_is_warned_about_by_name(tmp_path: Path):
    done = _start(tmp_path, SEDANCE_MAX_USD_PER_JOB="3", SEEDANCE_WAIT_SECOND="5", SEEDANCE_COLOUR="blue")
    warnings = [line for line in done.stderr.splitlines() if "warning" in line]
    assert warnings == [
        "seedance-mcp: warning: SEDANCE_MAX_USD_PER_JOB is not a setting of this server and is ignored "
        "(did you mean SEEDANCE_MAX_USD_PER_JOB?)",
        "seedance-mcp: warning: SEEDANCE_COLOUR is not a setting of this server and is ignored "
        "(see docs/settings.md for the settings there are)",
        "seedance-mcp: warning: SEEDANCE_WAIT_SECOND is not a setting of this server and is ignored "
        "(did you mean SEEDANCE_WAIT_SECONDS?)",
    ], done.stderr


def test_started_in_a_terminal_it_says_what_it_waits_for(tmp_path: Path):
    """A person who types `seedance-mcp` sees why nothing happens, and what to run instead."""
    primary, secondary = pty.openpty()
    with subprocess.Popen(
        [command()], env=subprocess_env(tmp_path), stdin=secondary, stderr=subprocess.PIPE, text=True
    ) as process:
        os.close(secondary)
        try:
            assert process.stderr is not None
            said = process.stderr.readline()
        finally:
            process.terminate()
            process.wait(timeout=20)
            os.close(primary)
    assert "waits for an MCP client" in said and "seedance-mcp demo" in said, said
