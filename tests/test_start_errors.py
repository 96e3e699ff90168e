"""A setting the server cannot start with: one line naming it and what to do, exit code 2, no traceback."""

from __future__ import annotations

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
