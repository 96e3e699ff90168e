"""The settings a command starts with: read, checked against the disk, and every problem said in a line.

Kept apart from `server.settings`, which only reads values, since this also touches the disk (the folders
the server will write to) and the rest of the environment (variables that look like misspelt settings).
"""

from __future__ import annotations

import difflib
import importlib.util
import os
import sys
from collections.abc import Iterable, Mapping

from server.folders import refusal
from server.settings import Settings
from server.variables import VARIABLES


def tracing_asked() -> bool:
    """Whether OpenTelemetry's standard variables ask for spans to be exported."""
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def strays(env: Mapping[str, str], known: Iterable[str]) -> list[str]:
    """A warning for each variable that looks meant for this server but is none of its settings (a typo such
    as SEDANCE_MAX_USD_PER_JOB would otherwise be ignored without a word), naming the closest one."""
    known = sorted(known)
    found = []
    for name in sorted(env):
        if name in known:
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.85)
        if close or name.startswith("SEEDANCE_"):
            hint = f"did you mean {close[0]}?" if close else "see docs/settings.md for the settings there are"
            found.append(f"seedance-mcp: warning: {name} is not a setting of this server and is ignored ({hint})")
    return found


def settings_for_start() -> Settings:
    """The settings a command starts with. Anything unusable, a value or a folder, stops it with one line
    naming the setting and the fix, and exit code 2, since a setting is a usage error; variables that look
    like misspelt settings are warned about."""
    try:
        settings = Settings.from_env()
        if tracing_asked() and importlib.util.find_spec("opentelemetry.sdk") is None:
            raise SystemExit(
                "seedance-mcp: OTEL_EXPORTER_OTLP_ENDPOINT asks for traces, which need the traces extra: "
                "pip install 'seedance-mcp[traces]' (or unset the variable)"
            )
        for setting, folder in (("SEEDANCE_HOME", settings.home), ("SEEDANCE_OUTPUT_DIR", settings.output_dir)):
            if folder is not None and (line := refusal(setting, folder)) is not None:
                raise SystemExit(line)
    except SystemExit as refused:
        if not isinstance(refused.code, str):
            raise
        print(refused.code, file=sys.stderr)
        raise SystemExit(2) from None
    for warning in strays(os.environ, (variable.name for variable in VARIABLES)):
        print(warning, file=sys.stderr)
    return settings
