"""What an MCP server says to signoff besides its answers, while it handles a call: its own
requests (sampling, elicitation, roots, ping), floods of notifications, a cancel of the
call itself, answers to ids it was never sent, a call answered twice. A hand-written
server (``asking_mcp_server.py``) in a real process.

Promises: a call runs once and its result is the server's first answer to it; nothing the
server says reaches a model, a person or a log but that answer; signoff's log says what
happened in a line, not a traceback a notification."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp.types import CallToolResult, TextContent

from agent_core.tools.base import ToolOutcomeUnknown
from agent_core.tools.mcp_server import McpServer
from agent_core.tools.mcp_spec import McpServerSpec

ASKING = Path(__file__).resolve().parent / "asking_mcp_server.py"
SECRET = "CONVERSATION-SECRET"


def recorded(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def text(result: CallToolResult) -> str:
    assert not result.is_error
    return "".join(b.text for b in result.content if isinstance(b, TextContent))


async def calls(tmp_path: Path, during: str, *, count: int = 1, times: int = 1) -> list[str]:
    """``times`` calls of get_x, each while the server does ``during``; their texts."""
    record = tmp_path / "record.jsonl"
    spec = McpServerSpec(
        command=[sys.executable, str(ASKING), "--record", str(record), "--during", during,
                 "--count", str(count)],
        timeout="10s",
    )  # fmt: skip
    server = McpServer("ops", spec, health_interval=3600)
    await server.start()
    try:
        assert server.status() == "MCP server ops is up"
        return [
            text(await server.call("get_x", {"a": "1"}, approval_id=f"ap-{n}"))
            for n in range(times)
        ]
    finally:
        await server.aclose()


async def test_a_servers_own_requests_are_refused_and_nothing_is_offered(
    tmp_path: Path, logs: io.StringIO
) -> None:
    assert await calls(tmp_path, "ask") == ["done"]
    entries = recorded(tmp_path / "record.jsonl")
    [capabilities] = [e["capabilities"] for e in entries if "capabilities" in e]
    # Never offered: a model's tokens (sampling), a person's answers, signoff's files.
    assert not {"sampling", "elicitation", "roots"} & {
        k for k, v in (capabilities or {}).items() if v is not None
    }
    answers = {e["asked"]: e["answer"] for e in entries if "asked" in e}
    for method in ("sampling/createMessage", "elicitation/create", "roots/list"):
        assert "error" in answers[method] and "result" not in answers[method], method
    assert "error" in answers["ping"] or answers["ping"]["result"] == {}
    assert [e["tool"] for e in entries if "tool" in e] == ["get_x"]
    assert SECRET not in logs.getvalue() and "Traceback" not in logs.getvalue()


async def test_a_flood_of_log_messages_is_neither_logged_nor_a_traceback(
    tmp_path: Path, logs: io.StringIO
) -> None:
    assert await calls(tmp_path, "log", count=3000) == ["done"]
    said = logs.getvalue()
    assert SECRET not in said and "forged" not in said and "Traceback" not in said


async def test_notifications_that_are_not_valid_mcp_are_said_in_a_line_not_a_traceback_each(
    tmp_path: Path, logs: io.StringIO
) -> None:
    assert await calls(tmp_path, "bad-notes", count=200, times=2) == ["done", "done"]
    said = logs.getvalue()
    assert "Traceback" not in said and "no level" not in said
    lines = [line for line in said.splitlines() if "not valid MCP" in line]
    # 400 a call, two calls: the 1st, 10th, 100th and 1000th... are said, with how many.
    assert 1 <= len(lines) <= 4, said[:2000]
    assert "notifications/progress" in said or "notifications/message" in said


async def test_progress_for_the_call_is_not_a_result_or_a_log(
    tmp_path: Path, logs: io.StringIO
) -> None:
    assert await calls(tmp_path, "progress", count=2000) == ["done"]
    assert SECRET not in logs.getvalue() and "Traceback" not in logs.getvalue()


@pytest.mark.parametrize("during", ["cancel", "list-changed"])
async def test_a_cancel_or_a_changed_listing_mid_call_leaves_the_call_run_once(
    tmp_path: Path, logs: io.StringIO, during: str
) -> None:
    assert await calls(tmp_path, during, times=2) == ["done", "done"]
    entries = recorded(tmp_path / "record.jsonl")
    assert [e["tool"] for e in entries if "tool" in e] == ["get_x", "get_x"]
    assert "Traceback" not in logs.getvalue()


@pytest.mark.parametrize("during", ["stray", "twice"])
async def test_answers_to_no_call_or_a_second_answer_are_never_another_calls_result(
    tmp_path: Path, logs: io.StringIO, during: str
) -> None:
    # The strays name the ids signoff sends next: the re-listing and the next call.
    assert await calls(tmp_path, during, times=3) == ["done", "done", "done"]
    entries = recorded(tmp_path / "record.jsonl")
    assert [e["tool"] for e in entries if "tool" in e] == ["get_x"] * 3
    assert "Traceback" not in logs.getvalue()


@pytest.mark.parametrize("during", ["pings", "one-id-pings"])
async def test_requests_a_server_sends_without_reading_the_answers_take_bounded_memory(
    tmp_path: Path, during: str
) -> None:
    # Each request is answered by a task of its own, parked on the server's full stdin:
    # one for every request it sent, without bound, until the server reads. Bounded, the
    # server waits on its own stdout, and the call it never answers ends uncertain. A
    # server giving all of them one id is bounded alike: each is a task all the same.
    record = tmp_path / "record.jsonl"
    spec = McpServerSpec(
        command=[sys.executable, str(ASKING), "--record", str(record), "--during", during,
                 "--count", "20000"],
        timeout="2s",
    )  # fmt: skip
    server = McpServer("ops", spec, health_interval=3600)
    await server.start()
    try:
        before = len(asyncio.all_tasks())
        call = asyncio.create_task(server.call("get_x", {"a": "1"}, approval_id="ap"))
        most = 0
        while not call.done():
            most = max(most, len(asyncio.all_tasks()) - before)
            await asyncio.sleep(0.05)
        with pytest.raises(ToolOutcomeUnknown, match="did not answer within"):
            call.result()
    finally:
        await server.aclose()
    assert most < 500, most
