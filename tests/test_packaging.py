"""What describes the server to installers stays true to it: versions, names, settings, tools and prompts."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from scripts import layers
from server.settings import Settings
from server.variables import VARIABLES
from tests import imports
from tests.conftest import connect

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
MANIFEST: dict[str, Any] = json.loads((REPO / "manifest.json").read_text(encoding="utf-8"))
REGISTRY: dict[str, Any] = json.loads((REPO / "server.json").read_text(encoding="utf-8"))


def test_every_setting_the_server_reads_is_documented():
    """The settings page is written from `server/variables.py`: it must name exactly what `from_env` reads."""
    source = "".join(
        (REPO / "server" / name).read_text(encoding="utf-8") for name in ("settings.py", "setting_values.py")
    )
    read = set(re.findall(r'"((?:SEEDANCE|FAL|RUNFLOW|ARK)_[A-Z_]+)"', source))
    assert read == {variable.name for variable in VARIABLES}
    fields = {field.name for field in dataclasses.fields(Settings)}
    assert {variable.setting for variable in VARIABLES} <= fields


def test_installers_and_the_package_agree_on_name_and_version():
    package = REGISTRY["packages"][0]
    assert MANIFEST["version"] == REGISTRY["version"] == package["version"] == PROJECT["version"]
    assert MANIFEST["name"] == package["identifier"] == PROJECT["name"]
    assert f"<!-- mcp-name: {REGISTRY['name']} -->" in README  # how the registry checks a PyPI package is ours
    assert len(REGISTRY["description"]) <= 100  # the registry's limit


def test_installers_pass_only_documented_settings_and_keep_the_key_secret():
    registry_env = {v["name"]: v for v in REGISTRY["packages"][0]["environmentVariables"]}
    manifest_env = MANIFEST["server"]["mcp_config"]["env"]
    assert set(registry_env) | set(manifest_env) <= {variable.name for variable in VARIABLES}
    assert registry_env["FAL_KEY"]["isSecret"] is True
    key_option = re.fullmatch(r"\$\{user_config\.(\w+)\}", manifest_env["FAL_KEY"])
    assert key_option and MANIFEST["user_config"][key_option[1]]["sensitive"] is True
    for value in manifest_env.values():
        option = re.fullmatch(r"\$\{user_config\.(\w+)\}", value)
        assert option and option[1] in MANIFEST["user_config"], value


def test_the_example_config_runs_the_clones_program_with_a_key():
    """What works today, from a clone; `uvx seedance-mcp` runs the same console script once it is published."""
    config = json.loads((REPO / "claude_desktop_config.example.json").read_text(encoding="utf-8"))
    server = config["mcpServers"]["seedance"]
    assert server["command"] == f"/absolute/path/to/clone/.venv/bin/{PROJECT['name']}" and "args" not in server
    assert set(server["env"]) == {"FAL_KEY"}
    assert PROJECT["scripts"][PROJECT["name"]] == "server.cli:main"


@pytest.mark.anyio
async def test_the_manifest_lists_the_tools_and_prompts_the_server_has(tmp_path: Path):
    async with connect(Settings(provider="local", home=tmp_path / "home")) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        prompts = {prompt.name: prompt for prompt in (await client.list_prompts()).prompts}
    assert {tool["name"] for tool in MANIFEST["tools"]} == tools
    assert {prompt["name"]: prompt["arguments"] for prompt in MANIFEST["prompts"]} == {
        name: [argument.name for argument in prompt.arguments or []] for name, prompt in prompts.items()
    }


def test_the_bundle_manifest_passes_the_official_validator(node_packages: Path):
    mcpb = node_packages / "node_modules" / ".bin" / "mcpb"
    done = subprocess.run([mcpb, "validate", REPO / "manifest.json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "validation passes" in done.stdout, done.stdout + done.stderr


def test_a_setting_a_bundle_host_left_unfilled_counts_as_unset():
    settings = Settings.from_env(
        {"FAL_KEY": "${user_config.fal_key}", "SEEDANCE_OUTPUT_DIR": "${user_config.output_dir}", "HOME": "/h"}
    )
    assert settings.fal_key is None and settings.provider == "local"
    assert settings.output_dir is not None and "user_config" not in str(settings.output_dir)


def test_no_modules_import_one_another_in_a_circle():
    """A circle fails for whichever of its modules is imported first (`import server.settings` once did)."""
    edges = imports.graph(REPO, ("server", "tools"))
    assert len(edges) > 80 and imports.circles(edges) == []
    assert imports.circles(imports.every_edge(REPO, ("server", "tools"))) == []  # lazy and type-only ones too


def test_every_import_points_down_a_layer_but_the_named_exceptions():
    """Counted over every import, lazy and type-only ones too; each exception is named in the README."""
    assert imports.upward(REPO, ("server", "tools")) == set(layers.UPWARD)
    assert len(layers.UPWARD) <= 2
    layout = " ".join((REPO / "README.md").read_text(encoding="utf-8").split("## Layout")[1].split())
    for source, target in layers.UPWARD:
        assert f"`{source}` imports `{target}`" in layout


def test_no_module_is_over_350_lines():
    """A module holds one idea; past a few hundred lines it holds several (the tracker once held five)."""
    sources = [
        *(
            path
            for package in ("server", "tools", "bench", "scripts", "tests")
            for path in (REPO / package).rglob("*.py")
        ),
        *(REPO / "ui" / "src").glob("*.ts"),
    ]
    long = {
        str(path.relative_to(REPO)): lines
        for path in sources
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 350
    }
    assert len(sources) > 150 and long == {}


def test_the_layer_check_sees_imports_inside_functions_and_for_types(tmp_path: Path):
    files = {
        "server/__init__.py": "",
        "server/settings.py": "def f():\n    from server.ledger.base import Ledger\n",
        "server/ledger/__init__.py": "",
        "server/ledger/base.py": "import typing\nif typing.TYPE_CHECKING:\n    from server.inputs import x\n",
        "server/inputs/__init__.py": "from server.ledger import base\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert imports.upward(tmp_path, ("server",)) == {
        ("server.settings", "server.ledger.base"),
        ("server.ledger.base", "server.inputs"),
    }


def test_the_import_graph_finds_a_circle_that_runs_through_a_package(tmp_path: Path):
    """The shape of the circle that broke `import server.settings`: a module imports a sibling's submodule,
    which loads the sibling package first, whose `__init__` imports back."""
    files = {
        "house/__init__.py": "",
        "house/settings.py": "from house.ledger import Record\n",
        "house/ledger.py": "from house.inputs.catalog import Mode\nRecord = 1\n",
        "house/inputs/__init__.py": "from house.inputs.references import find\n",
        "house/inputs/catalog.py": "Mode = 1\n",
        "house/inputs/references.py": "from house.ledger import Record\nfrom typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from house.settings import x\ndef find():\n    from house.settings import y\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    edges = imports.graph(tmp_path, ("house",))
    assert imports.circles(edges) == [["house.inputs", "house.inputs.references", "house.ledger"]]
    assert "house.settings" not in edges["house.inputs.references"]  # neither for types nor inside a function
    assert edges["house.inputs.catalog"] == set()  # a module inside a package does not depend on it
