"""The last read of an answer to a remote caller: paths of the server's folders are replaced, nothing else."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, TextContent

from server.trust.redaction import HIDDEN, Redactor


@pytest.fixture
def redactor(tmp_path: Path) -> Redactor:
    return Redactor([tmp_path / "home", tmp_path / "videos"])


def test_a_path_under_a_servers_folder_is_replaced_in_any_form(redactor: Redactor, tmp_path: Path):
    saved = tmp_path / "videos" / "2026-12-04 205012 a lighthouse.mp4"
    assert redactor.text(f"Saved to {saved}") == f"Saved to {HIDDEN}"
    assert redactor.text(f"see {saved.as_uri()}") == f"see {HIDDEN}"
    assert redactor.text(f"({tmp_path / 'home' / 'frames'})") == f"({HIDDEN})"
    assert redactor.text(str(tmp_path / "home")) == HIDDEN


def test_urls_base64_and_other_folders_are_left_alone(redactor: Redactor, tmp_path: Path):
    untouched = [
        f"https://cdn.example.org{tmp_path}/home/a.mp4",  # a URL's own path, however it looks
        "seedance://jobs/abc/frames/last",
        base64.b64encode(f"+{tmp_path}/home/".encode() * 50).decode(),
        f"ab+{tmp_path}/home/x",  # inside base64, which may hold `+/` before anything
    ]
    for text in untouched:
        assert redactor.text(text) == text


def test_a_folder_that_only_starts_like_a_servers_folder_is_left_alone():
    redactor = Redactor([Path("/srv/seedance/home")])
    assert redactor.text("/srv/seedance/homework/a.png") == "/srv/seedance/homework/a.png"
    assert redactor.text("/srv/seedance/home/a.png") == HIDDEN


def test_an_answer_and_an_error_come_back_cleaned_and_the_same_object_when_clean(redactor: Redactor, tmp_path: Path):
    clean = CallToolResult(content=[TextContent(type="text", text="done")], structured_content={"a": 1})
    assert redactor.result(clean) is clean
    dirty = CallToolResult(
        content=[TextContent(type="text", text=f"at {tmp_path}/home/x.png")],
        structured_content={"saved_path": f"{tmp_path}/videos/x.mp4"},
    )
    cleaned = redactor.result(dirty)
    assert str(tmp_path) not in cleaned.model_dump_json() and cleaned.structured_content == {"saved_path": HIDDEN}
    error = MCPError(-32602, f"no file {tmp_path}/home/x")
    assert redactor.error(error).message == f"no file {HIDDEN}" and redactor.error(MCPError(1, "ok")).message == "ok"
