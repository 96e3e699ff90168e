"""The settings page, from `server.variables` and the defaults `Settings` computes."""

from __future__ import annotations

import dataclasses
from typing import Any

from server.catalog.checks import offer
from server.setting_values import MIN_SECRET_LENGTH
from server.settings import HTTP_USER_CALLS_PER_MINUTE, HTTP_USER_MAX_JOBS_IN_FLIGHT, Settings
from server.variables import VARIABLES

# Defaults that depend on the machine, on other settings or on the catalog, said in words.
IN_WORDS = {
    "SEEDANCE_PROVIDER": "the first of `fal`, `runflow`, `ark` whose key is set, otherwise `local`",
    "SEEDANCE_ALLOWED_DIRS": "your home folder",
    "SEEDANCE_OUTPUT_DIR": "your videos folder, under `Seedance` (`~/Movies/Seedance` on macOS, `XDG_VIDEOS_DIR` "
    "or `~/Videos` elsewhere)",
    "SEEDANCE_HOME": "the user data folder: `~/.local/share/seedance-mcp` (Linux, or "
    "`$XDG_DATA_HOME/seedance-mcp`), `~/Library/Application Support/seedance-mcp` (macOS), "
    "`%LOCALAPPDATA%\\seedance-mcp` (Windows)",
    "SEEDANCE_DOWNLOAD": "`1`",
    "SEEDANCE_OAUTH_AUDIENCE": "`SEEDANCE_OAUTH_RESOURCE`",
    "SEEDANCE_DAILY_BUDGET_USD": "off",
    "SEEDANCE_USER_DAILY_BUDGET_USD": "off",
    "SEEDANCE_USER_MAX_JOBS_IN_FLIGHT": f"`{HTTP_USER_MAX_JOBS_IN_FLIGHT}` over HTTP, off on stdio",
    "SEEDANCE_USER_CALLS_PER_MINUTE": f"`{HTTP_USER_CALLS_PER_MINUTE}` over HTTP, off on stdio",
}
ARK_MODELS = {"SEEDANCE_ARK_MODEL": "seedance-2.0", "SEEDANCE_ARK_FAST_MODEL": "seedance-2.0-fast"}


def _default(name: str, value: Any) -> str:
    if name in IN_WORDS:
        return IN_WORDS[name]
    if name in ARK_MODELS:
        sold = offer("ark", ARK_MODELS[name])  # type: ignore[arg-type]
        assert sold is not None
        return f"`{sold.endpoints['text-to-video']}`"
    if value is None or value == ():
        return "none"
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value}`"


def settings_page() -> str:
    defaults = {field.name: field for field in dataclasses.fields(Settings)}
    rows = ["| variable | default | what it does |", "| --- | --- | --- |"]
    for variable in VARIABLES:
        field = defaults[variable.setting]
        value = field.default if field.default is not dataclasses.MISSING else None
        rows.append(f"| `{variable.name}` | {_default(variable.name, value)} | {variable.what} |")
    table = "\n".join(rows)
    return f"""# Settings

Generated from `server/variables.py` and the defaults in `server/settings.py` by `python -m scripts.reference`;
do not edit by hand.

Everything is read from the environment when the server starts (in a desktop client, from the `env` block of
its config). The server reads {len(VARIABLES)} variables:

{table}

An empty value, or one left as a bundle's unfilled `${{user_config...}}` placeholder, counts as unset. A value the
server cannot use stops it at start with one line on stderr naming the setting, what was given (never a secret)
and what is allowed, and exit code 2; so does `SEEDANCE_DATABASE_URL` without the `postgres` extra, naming the
`pip install` to run. `SEEDANCE_HOME` and the output folder are tried at start too: one that cannot be made or
written (a file, a folder under a file, a read-only disk) stops the server and the demo the same way, naming
the setting, the folder and why; trying leaves nothing behind. `SEEDANCE_HTTP_TOKEN` must be at least
{MIN_SECRET_LENGTH} characters. A variable that looks like a misspelt setting (`SEDANCE_MAX_USD_PER_JOB`, or any
`SEEDANCE_` name the server does not read) is warned about at start, naming the closest setting, and ignored.

## The command

`seedance-mcp` serves stdio; `--http` serves streamable HTTP at `/mcp`, with `--host` (default `127.0.0.1`) and
`--port` (default `8000`); `--version`; `seedance-mcp demo` runs [the demo](index.md#the-demo). Started by hand
in a terminal, it says on stderr that it waits for an MCP client and suggests the demo.
"""
