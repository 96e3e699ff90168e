"""Paths of this machine's disk taken out of an answer to a remote caller, whatever put them there.

The views already name jobs and films by `seedance://` URI and the host's URL for remote callers; this is
the last read of every answer before it leaves, so that no message, argument echo or event written for
the person on stdio shows a remote caller where the server keeps its files.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:  # see server.trust: settings read through this package before the SDK loads
    from mcp.shared.exceptions import MCPError

logger = logging.getLogger(__name__)

HIDDEN = "(a file on the server)"


def _spellings(folders: Iterable[Path]) -> list[str]:
    """Every folder as written and as resolved, longest first, so that a folder wins over its parent."""
    found: set[str] = set()
    for folder in folders:
        for form in (Path(os.path.abspath(folder)), folder.resolve()):
            if len(form.parts) > 1:  # never the bare root, which every absolute path starts with
                found.add(str(form))
    return sorted(found, key=len, reverse=True)


class Redactor:
    def __init__(self, folders: Iterable[Path]) -> None:
        roots = _spellings([*folders, Path(tempfile.gettempdir()), Path.cwd(), Path(sys.prefix)])
        tails = "|".join(re.escape(root[1:]) for root in roots)  # each root without its leading "/"
        end = r"(?=[/\\\"'\s)\]]|$)[^\"'\\\n)\]]*"
        # A path starts a word: not the path part of a URL, nor anything inside base64, whose alphabet the
        # look-behind holds. It ends at a quote, a bracket or a line end. Both patterns open with a literal,
        # which the regex engine searches for quickly in a long answer (a video's piece in base64).
        self._patterns = (
            re.compile(rf"file:///(?:{tails}){end}"),
            re.compile(rf"/(?<![\w.:/%+=-]/)(?:{tails}){end}"),
        )

    def _sub(self, text: str, replacement: str) -> str:
        for pattern in self._patterns:
            text = pattern.sub(replacement, text)
        return text

    def text(self, text: str) -> str:
        return self._sub(text, HIDDEN)

    def result(self, result: BaseModel | dict[str, Any] | None) -> Any:
        """The answer as the client would get it, with every such path replaced; logged, since the views
        should not have put it there."""
        if result is None:
            return None
        if isinstance(result, BaseModel):
            raw = result.model_dump_json(by_alias=True, exclude_none=True)
        else:
            raw = json.dumps(result)
        cleaned = self._sub(raw, json.dumps(HIDDEN)[1:-1])
        if cleaned == raw:
            return result
        logger.warning("a path of this machine was taken out of an answer to a remote caller")
        data = json.loads(cleaned)
        return result.model_validate(data) if isinstance(result, BaseModel) else data

    def error(self, exc: MCPError) -> MCPError:
        """The same error with such paths replaced in its message; the error itself when there were none."""
        from mcp.shared.exceptions import MCPError

        message = self.text(exc.message)
        return exc if message == exc.message else MCPError(exc.code, message, exc.error.data)
