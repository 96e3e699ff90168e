"""The key never leaves: it is nowhere in anything the server emitted during the whole suite.

Every test runs with a canary key. Test clients record every result, error, progress message and
resource the server sent them, a root log handler records every log line at DEBUG, and every file the
suite wrote (ledgers and their WAL, previews, servers' stderr) is under pytest's base temp folder.
This test runs last and searches all of it.
"""

from __future__ import annotations

import anyio
import pytest

from server.settings import Settings
from tests.conftest import CANARY_KEY, EMITTED, LogRecorder, connect, read_json
from tests.fake_fal import FakeFal, Phase

pytestmark = pytest.mark.anyio

SECRET_HALF = CANARY_KEY.split(":")[1]


@pytest.mark.last
async def test_the_key_is_in_nothing_the_server_emitted(
    settings: Settings, fake_fal: FakeFal, tmp_path_factory: pytest.TempPathFactory
):
    # One more pass through every channel, at DEBUG: success, failure, cancel, resources.
    fake_fal.plan = [Phase("IN_QUEUE", None, queue_position=1)]
    async with connect(settings) as client:
        with anyio.move_on_after(0.5):
            await client.call_tool("generate_text_video", {"prompt": "canary, cancelled"})
        fake_fal.plan = [Phase("IN_PROGRESS", 0.05, log="working")]
        done = await client.call_tool("generate_text_video", {"prompt": "canary, done"})
        fake_fal.outcome = "invalid"
        await client.call_tool("generate_text_video", {"prompt": "canary, rejected"})
        assert done.structured_content is not None
        await read_json(client, done.structured_content["job_uri"])
        await read_json(client, "seedance://jobs")

    texts = EMITTED + LogRecorder.lines
    assert len(EMITTED) > 10 and len(LogRecorder.lines) > 10
    leaks = [text[:200] for text in texts if CANARY_KEY in text or SECRET_HALF in text]
    assert leaks == []
    files = [path for path in tmp_path_factory.getbasetemp().rglob("*") if path.is_file()]
    assert any(path.name.endswith(".sqlite3-wal") or path.name.endswith(".sqlite3") for path in files)
    leaking_files = [path for path in files if SECRET_HALF.encode() in path.read_bytes()]
    assert leaking_files == []
    print(
        f"canary: searched {len(EMITTED)} results and messages, {len(LogRecorder.lines)} log lines, {len(files)} files"
    )
