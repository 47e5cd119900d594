"""What an MCP server says over streamable HTTP besides its answers, on the GET stream or
inside a call's SSE answer: floods of its own requests and of notifications. A server
written by hand (``flooding_http_server.py``) in a real process, on an ephemeral port.

Promises: signoff's memory and tasks stay bounded whatever the server sends (past 64 of
its requests unanswered, what it sends is not read until they are answered, as over
stdio); a call runs once and its result is the server's answer; the log is not flooded."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp.types import TextContent
from mcp_fixture_kit import wait_for

from agent_core.tools.base import ToolError
from agent_core.tools.mcp_server import McpServer
from agent_core.tools.mcp_spec import McpServerSpec

FLOODING = Path(__file__).resolve().parent / "flooding_http_server.py"


@contextlib.contextmanager
def flooding(tmp_path: Path, *args: str) -> Iterator[str]:
    """The flooding server, doing ``args``; yields its URL."""
    port_file = tmp_path / "port"
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    proc = subprocess.Popen(
        [sys.executable, str(FLOODING), "--record", str(tmp_path / "record.jsonl"),
         "--port-file", str(port_file), *args],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(port_file.exists, what="the HTTP MCP server to listen")
        yield f"http://127.0.0.1:{port_file.read_text()}/mcp"
    finally:
        proc.kill()
        proc.wait()


def recorded(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "record.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def rss_mib() -> int:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) >> 10


class Watched:
    """A call of get_x to the server at ``url``, with the most tasks and memory signoff
    held on top of what it held before the server was connected."""

    def __init__(self, url: str, timeout: str = "10s") -> None:
        self.server = McpServer(
            "ops", McpServerSpec(url=url, timeout=timeout), health_interval=3600
        )
        self.tasks = len(asyncio.all_tasks())
        self.rss = rss_mib()
        self.most_tasks = 0
        self.most_rss = 0

    def look(self) -> None:
        self.most_tasks = max(self.most_tasks, len(asyncio.all_tasks()) - self.tasks)
        self.most_rss = max(self.most_rss, rss_mib() - self.rss)

    async def call(self, *, within: float) -> asyncio.Task[Any]:
        """The call, once it ended or ``within`` seconds passed (then still running)."""
        await self.server.start()
        call = asyncio.create_task(self.server.call("get_x", {"a": "1"}, approval_id="ap"))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not call.done() and loop.time() < deadline:
            self.look()
            await asyncio.wait({call}, timeout=0.05)
        self.look()
        return call


def text(call: asyncio.Task[Any]) -> str:
    return "".join(b.text for b in call.result().content if isinstance(b, TextContent))


@pytest.mark.parametrize(("where", "count"), [("--get", 20000), ("--during", 1000)])
async def test_pings_take_bounded_tasks_and_the_call_is_answered(
    tmp_path: Path, where: str, count: int
) -> None:
    # The SDK answers each of the server's requests in a task of its own, and answers
    # go out one POST at a time: pings on the GET stream, or in the call's own answer
    # before its result, were all read at once, a task each. Now the server waits for
    # its answers past 64, and a call's result comes after the answers to what it sent
    # before it (as over stdio).
    with flooding(tmp_path, where, "pings", "--count", str(count)) as url:
        watched = Watched(url, timeout="30s")
        try:
            call = await watched.call(within=60)
            assert text(call) == "done"
        finally:
            await watched.server.aclose()
    assert watched.most_tasks < 500, watched.most_tasks
    assert [e["tool"] for e in recorded(tmp_path) if "tool" in e] == ["get_x"]
    if where == "--during":  # all but the last 64 at most were answered before the result
        answered = [e["answered"] for e in recorded(tmp_path) if "answered" in e]
        assert count - 64 <= len(answered) == len(set(answered)), len(answered)


async def test_pings_a_server_never_takes_the_answers_of_take_bounded_memory(
    tmp_path: Path,
) -> None:
    # Every answer waits behind the first, which the server never takes: 50,000 pings
    # were 50,000 parked tasks and 530 MB. Bounded, nothing more is read from it: its
    # listing never comes, so it is down, and each attempt to reach it is cut alike.
    args = ("--get", "pings", "--count", "50000", "--answers", "hang")
    with flooding(tmp_path, *args) as url:
        watched = Watched(url, timeout="2s")
        try:
            call = await watched.call(within=90)
            with pytest.raises(ToolError, match="no answer in time; nothing was sent"):
                call.result()
        finally:
            await watched.server.aclose()
    assert watched.most_tasks < 500, watched.most_tasks
    assert watched.most_rss < 100, watched.most_rss


@pytest.mark.parametrize("kind", ["garbage", "notes", "list-changed"])
async def test_what_a_server_floods_the_get_stream_with_is_said_in_a_line_not_a_traceback_each(
    tmp_path: Path, logs: io.StringIO, kind: str
) -> None:
    # An event that is not JSON-RPC was an ERROR with a traceback quoting it, each: 3,000
    # were 33,000 lines. So was every event the SDK was handing on as the connection
    # closed (not a parse error at all). Notifications are dropped; none is re-listed on.
    with flooding(tmp_path, "--get", kind, "--count", "3000") as url:
        watched = Watched(url)
        try:
            call = await watched.call(within=30)
            assert text(call) == "done"
        finally:
            await watched.server.aclose()
    said = logs.getvalue()
    assert "Traceback" not in said and "SECRET" not in said and "forged" not in said, said[:3000]
    assert len(said.splitlines()) < 20, said[:3000]
    if kind == "garbage":  # the 1st, 10th, 100th and 1000th... are said, with how many
        lines = [line for line in said.splitlines() if "not JSON-RPC" in line]
        assert 3 <= len(lines) <= 4 and "(1 so far" in lines[0], said
    assert watched.most_tasks < 500, watched.most_tasks
