"""The README and the documentation site stay true to the code: generated pages fresh, counts right."""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from server.inputs.formats import ALLOWED_FORMATS
from server.prompts import PROMPTS
from server.settings import Settings
from server.variables import VARIABLES
from tests.conftest import connect, text_of

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


SETTING = re.compile(r"\bSEEDANCE_[A-Z][A-Z0-9_]*")
TEST_ONLY = {"SEEDANCE_TEST_CHROMIUM"}  # read by the tests, and said so on the contributing page


def test_every_setting_a_page_names_is_one_the_server_reads():
    known = {variable.name for variable in VARIABLES} | TEST_ONLY
    named = {
        f"{page.relative_to(REPO)}: {name}"
        for page in pages()
        for name in SETTING.findall(page.read_text(encoding="utf-8"))
        if name not in known
    }
    assert named == set()


DEFAULT = re.compile(r"`?(SEEDANCE_[A-Z_]+)`?(?:'s)?(?:,| \(default:?) \$?(\d+(?:\.\d+)?)\b")


def test_every_default_a_page_names_is_the_settings_default():
    """`SEEDANCE_MAX_USD_PER_JOB` (default $5) in prose, SEEDANCE_WAIT_SECONDS, 45 in a tool's description."""
    defaults = {v.name: getattr(Settings(), v.setting) for v in VARIABLES}
    texts = {str(page.relative_to(REPO)): page.read_text(encoding="utf-8") for page in pages()}
    texts["tools/listing.json"] = (REPO / "tools" / "listing.json").read_text(encoding="utf-8")
    found = [(where, name, float(value)) for where, text in texts.items() for name, value in DEFAULT.findall(text)]
    assert len(found) >= 3
    wrong = [f"{where}: {name} {value:g}" for where, name, value in found if float(defaults[name]) != value]
    assert wrong == []


REPO_PATH = re.compile(r"`((?:server|tools|tests|scripts|bench|ui|docs|\.ci)/[\w./-]*|[\w.-]+\.(?:py|json|toml|yml))`")
NOT_OURS = {  # files of a client, a platform or a run, not of this repository
    "mcp.json",
    "claude_desktop_config.json",
    "bench-results.json",
    "package.json",
    "user-dirs.dirs",
}


def test_every_file_a_page_names_is_in_the_repository():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    names = {Path(path).name for path in tracked}
    missing = []
    for page in pages():
        for found in REPO_PATH.findall(page.read_text(encoding="utf-8")):
            if "/" in found and not found.endswith("/") and "." not in found.rsplit("/", 1)[1]:
                continue  # an MCP method (tools/call, ui/open-link), not a file
            if "/" in found:
                exists = (REPO / found.rstrip("/")).exists() or any(p.startswith(found) for p in tracked)
            else:
                exists = found in names or found in NOT_OURS
            if not exists and "{" not in found and "*" not in found:
                missing.append(f"{page.relative_to(REPO)}: {found}")
    assert missing == []


def _invocations(text: str) -> list[list[str]]:
    """Each `seedance-mcp ...` command in the page's code, as the shell would split it up to its first operator."""
    found = []
    for code in re.findall(r"```bash\n(.+?)\n```|`([^`\n]+)`", text, re.DOTALL):
        for line in "".join(code).splitlines():
            if "[--" in line:
                continue  # a synopsis, not a command
            try:
                words = shlex.split(line.split(" #")[0], posix=True)
            except ValueError:  # a quote opened in one inline span and closed in another
                words = line.split()
            for at, word in enumerate(words):
                if word.endswith("bin/seedance-mcp") or word == "seedance-mcp":
                    rest = list(itertools.takewhile(lambda w: w not in ("&", "&&", "|", ";", "||"), words[at + 1 :]))
                    found.append(rest)
    return found


def test_every_seedance_mcp_command_a_page_shows_is_one_the_command_takes():
    from server.cli import parse_args
    from server.demo import parser

    shown = [args for page in pages() for args in _invocations(page.read_text(encoding="utf-8"))]
    assert len(shown) >= 10 and ["demo"] in shown and any("--http" in args for args in shown)
    for args in shown:
        if args[:1] == ["demo"]:
            parser().parse_args(args[1:])
        elif args != ["--version"]:
            parse_args(args)


def test_every_client_configuration_runs_a_program_that_is_there():
    """The JSON configurations on the clients page and the example file: put this clone where they say
    /absolute/path/to/clone, and the program they name is this clone's (the tests run in its .venv)."""
    blocks = re.findall(r"```json\n(.+?)\n```", (REPO / "docs" / "clients.md").read_text(encoding="utf-8"), re.DOTALL)
    blocks.append((REPO / "claude_desktop_config.example.json").read_text(encoding="utf-8"))
    commands = [
        server["command"]
        for block in blocks
        for servers in (json.loads(block).get("mcpServers") or json.loads(block).get("servers")).values()
        for server in [servers]
    ]
    assert len(commands) >= 4
    for command in commands:
        program = Path(command.replace("/absolute/path/to/clone/.venv", sys.prefix))
        assert program.is_file() and os.access(program, os.X_OK), command


@pytest.mark.anyio
async def test_the_guides_example_refusal_is_what_the_server_answers(settings):
    """The guide's example, its "..." standing for what it leaves out, against the answer to the same call."""
    guide = (REPO / "docs" / "guide.md").read_text(encoding="utf-8")
    example = re.search(r"```\n(Invalid arguments for generate_text_video.+?)\n```", guide, re.DOTALL)
    assert example
    async with connect(settings) as client:
        call = {"prompt": "x", "duration": 5, "seed": "42", "duraton": "5"}
        answer = text_of(await client.call_tool("generate_text_video", call))
    pattern = "\n".join(".*?".join(map(re.escape, line.split("..."))) for line in example[1].splitlines())
    assert re.fullmatch(pattern, answer), answer
