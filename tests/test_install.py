"""The two ways a person installs the server without a clone: `uvx` and the Claude Desktop bundle.

Both are run as their users' clients run them: uv builds the package from a copy of this checkout and
fetches its dependencies from the package index (into uv's cache, so later runs are quick), then an MCP
client drives the server over stdio against the fake fal queue.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.stdio import StdioServerParameters

from tests.conftest import CANARY_KEY, RecordingClient, subprocess_env, text_of
from tests.fake_fal import FakeFal

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent
INSTALL_SECONDS = 300  # the first run downloads the dependencies
CHEAP = {"prompt": "a paper lantern rising", "duration": "4", "resolution": "480p", "aspect_ratio": "16:9"}


@pytest.fixture(scope="session")
def uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    assert found, "uv comes with the test extra: pip install -e '.[test]'"
    return found


def checkout_copy(target: Path) -> Path:
    """The files a clone would have but its tests (no installer reads them), so builds leave nothing here."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file() and not name.startswith("tests/"):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def uv_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A server's environment, with what uv needs to reach the index: the machine's CA roots, its UV_ settings."""
    network = {name: value for name, value in os.environ.items() if name.startswith(("UV_", "SSL_CERT_"))}
    network.setdefault("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv"))
    return subprocess_env(
        tmp_path,
        **network
        | {
            "UV_PYTHON": sys.executable,  # this interpreter's Python; uv must not download one
            "UV_PYTHON_DOWNLOADS": "never",
            "UV_NO_PROGRESS": "1",
        }
        | extra,
    )


async def generate_through(params: StdioServerParameters) -> tuple[set[str], Any]:
    async with RecordingClient(params) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("generate_text_video", CHEAP)
    assert result.structured_content and result.structured_content["status"] == "completed", text_of(result)
    return tools, result.structured_content


CLONE = "/absolute/path/to/clone"  # what the README and docs/clients.md write for the reader's clone


async def test_the_example_config_runs_the_clones_own_program(fake_fal: FakeFal, tmp_path: Path):
    """claude_desktop_config.example.json as written, with this clone's path put in, as a reader does."""
    config = json.loads((REPO / "claude_desktop_config.example.json").read_text())["mcpServers"]["seedance"]
    assert config["command"] == f"{CLONE}/.venv/bin/seedance-mcp" and "args" not in config
    program = config["command"].replace(f"{CLONE}/.venv", sys.prefix)  # the clone's .venv: the tests run in it
    env = subprocess_env(tmp_path, **config["env"])
    env.update(FAL_KEY=CANARY_KEY, SEEDANCE_FAL_QUEUE_URL=fake_fal.url)
    tools, job = await generate_through(StdioServerParameters(command=program, env=env))
    assert "generate_text_video" in tools and job["provider"] == "fal"
    assert Path(job["video"]["saved_path"]).is_file() and fake_fal.count("submit") == 1


async def test_uvx_from_the_clone_runs_the_server_as_the_docs_say(uv: str, fake_fal: FakeFal, tmp_path: Path):
    (line,) = [
        line.split("#")[0].split()
        for line in (REPO / "docs" / "clients.md").read_text().splitlines()
        if line.startswith("uvx --from")
    ]
    assert line == ["uvx", "--from", CLONE, "seedance-mcp"]
    source = checkout_copy(tmp_path / "clone")
    env = uv_env(tmp_path, FAL_KEY=CANARY_KEY, SEEDANCE_FAL_QUEUE_URL=fake_fal.url)
    # `uvx` is `uv tool run`; the uv the tests installed stands in for the reader's
    params = StdioServerParameters(command=uv, args=["tool", "run", "--from", str(source), line[-1]], env=env)
    with anyio.fail_after(INSTALL_SECONDS):
        tools, job = await generate_through(params)
    assert "generate_text_video" in tools and job["provider"] == "fal"
    saved = Path(job["video"]["saved_path"])
    assert saved.is_file() and saved.with_suffix(".json").is_file()
    assert fake_fal.count("submit") == 1


async def test_the_bundle_packs_and_runs_as_claude_desktop_runs_it(
    uv: str, node_packages: Path, fake_fal: FakeFal, tmp_path: Path
):
    source = checkout_copy(tmp_path / "clone")
    (source / "site").mkdir()  # a built docs site, as `mkdocs build` leaves it: not the bundle's to carry
    (source / "site" / "index.html").write_text("<html></html>")
    bundle = tmp_path / "seedance-mcp.mcpb"
    mcpb = node_packages / "node_modules" / ".bin" / "mcpb"
    packed = subprocess.run([mcpb, "pack", source, bundle], capture_output=True, text=True, timeout=120)
    assert packed.returncode == 0, packed.stdout + packed.stderr

    installed = tmp_path / "installed"
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        archive.extractall(installed)
    assert {"manifest.json", "pyproject.toml", "README.md", "server/cli.py", "tools/generation.py"} <= set(names)
    assert not [n for n in names if n.split("/")[0] in ("tests", "bench", ".ci", ".venv", "build", "site", "docs")]
    stated = re.search(
        r"The bundle carries the source only, about ([\d.]+) MB", (REPO / "docs" / "clients.md").read_text()
    )
    assert stated and abs(bundle.stat().st_size / 1e6 / float(stated[1]) - 1) < 0.2, bundle.stat().st_size

    # What the host does: ${__dirname} is the unpacked bundle; the user typed a key and left the rest as it was
    manifest = json.loads((installed / "manifest.json").read_text())
    answers = {name: option.get("default") for name, option in manifest["user_config"].items()}
    answers["fal_key"] = CANARY_KEY

    def fill(value: str) -> str:
        value = value.replace("${__dirname}", str(installed))
        return re.sub(
            r"\$\{user_config\.(\w+)\}",
            lambda m: m[0] if answers.get(m[1]) is None else str(answers[m[1]]),  # unfilled stays as it is
            value,
        )

    config = manifest["server"]["mcp_config"]
    assert config["command"] == "uv"
    env = uv_env(tmp_path, SEEDANCE_FAL_QUEUE_URL=fake_fal.url)
    del env["SEEDANCE_OUTPUT_DIR"]  # left to the bundle's settings
    env.update({name: fill(value) for name, value in config["env"].items()})
    params = StdioServerParameters(command=uv, args=[fill(arg) for arg in config["args"]], env=env)
    try:
        with anyio.fail_after(INSTALL_SECONDS):
            tools, job = await generate_through(params)
    finally:  # uv's environment for the bundle: 200 MB of packages the canary test need not read
        shutil.rmtree(installed / ".venv", ignore_errors=True)

    assert tools == {tool["name"] for tool in manifest["tools"]}
    saved = Path(job["video"]["saved_path"])
    assert saved.parent == tmp_path / "user-home" / "Videos" / "Seedance"  # the default, as no folder was chosen
    assert saved.is_file() and fake_fal.count("submit") == 1
