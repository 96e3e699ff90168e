"""The card the package ships is what ui/ builds: the same bytes, type-checked, within its size cap."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # TypeScript and esbuild


def test_the_shipped_job_card_equals_a_fresh_build_of_ui(ui_packages: Path):
    npm = shutil.which("npm")
    assert npm
    done = subprocess.run(
        [npm, "run", "--silent", "check"], cwd=ui_packages, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "server/card/job.html matches a fresh build" in done.stdout
