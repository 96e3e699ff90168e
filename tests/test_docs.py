"""The README and the documentation site stay true to the code: generated pages fresh, counts right."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from server.inputs.formats import ALLOWED_FORMATS
from server.prompts import PROMPTS
from server.variables import VARIABLES
from tests.conftest import connect

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
NUMBERS = {
    word: n
    for n, word in enumerate(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
    )
}
COUNTED = re.compile(rf"\b({'|'.join(NUMBERS)}|\d+) (?:MCP )?(tools|prompts|settings|variables)\b", re.IGNORECASE)


def pages() -> list[Path]:
    return [README, *sorted((REPO / "docs").glob("*.md"))]


def test_the_generated_pages_are_what_the_code_says():
    """Tools, settings, prices, the models and layers tables and the stored tool schemas are written by
    `python -m scripts.reference`; an edit to the code that changes them must regenerate them."""
    done = subprocess.run(
        [sys.executable, "-m", "scripts.reference", "--check"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_the_check_finds_a_stale_page(tmp_path: Path):
    """The check above can fail: a copy of the repository with one hand edit in a generated page."""
    copy = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(REPO), str(copy)], check=True, capture_output=True)
    shutil.rmtree(copy / "tests")  # not needed, and it holds the canary key the secrets check looks for
    for name in ("docs/tools.md", "docs/settings.md", "docs/prices.md", "tools/listing.json", "README.md"):
        (copy / name).write_text((REPO / name).read_text(encoding="utf-8"), encoding="utf-8")  # as in this tree
    settings = copy / "docs" / "settings.md"
    settings.write_text(settings.read_text(encoding="utf-8").replace("`45`", "`30`", 1), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "scripts.reference", "--check"], cwd=copy, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1 and "docs/settings.md is stale" in done.stderr


def test_the_readme_is_a_front_door():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 300
    for page in re.findall(r"\]\((docs/[^)#]+)", text):
        assert (REPO / page).exists(), page


def test_the_readme_test_command_is_the_one_ci_runs():
    commands = re.findall(r"```bash\n(.+?)\n```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert "seedance-mcp demo" in commands[0]  # the quick start's first command runs the demo
    assert commands[1] in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()


@pytest.mark.anyio
async def test_every_count_the_pages_name_is_the_codes(settings):
    async with connect(settings) as client:
        listed = len((await client.list_tools()).tools)
    have = {"tools": listed, "prompts": len(PROMPTS), "settings": len(VARIABLES), "variables": len(VARIABLES)}
    wrong = [
        f"{page.relative_to(REPO)}: {match[0]!r}, the code has {have[match[2].lower()]}"
        for page in pages()
        for match in COUNTED.finditer(page.read_text(encoding="utf-8"))
        if (int(match[1]) if match[1].isdigit() else NUMBERS[match[1].lower()]) != have[match[2].lower()]
    ]
    assert wrong == []


def test_every_page_names_the_formats_the_checks_take():
    """A list of formats in the README, the docs or a tool's description is the list the input checks hold."""
    texts = [page.read_text(encoding="utf-8") for page in pages()]
    texts.append((REPO / "tools" / "listing.json").read_text(encoding="utf-8"))
    lists = {"image": r"\bJPEG, [\w, ]*? or \w+", "video": r"\bMP4 or \w+", "audio": r"\bMP3 or \w+"}
    named = {kind: {found for text in texts for found in re.findall(pattern, text)} for kind, pattern in lists.items()}
    assert named == {kind: {formats} for kind, formats in ALLOWED_FORMATS.items()}
