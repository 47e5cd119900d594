"""What signoff makes of a call's answer over streamable HTTP when it is not a plain one:
an answer that never ends, one too large, a redirect or an expired session. The server is
written by hand (``flooding_http_server.py``) and runs in a real process.

Promises: a call that timed out leaves nothing open behind it; an answer over the limit
is said as such, with the limit; a call the server may have run is never reported as
not run."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from test_mcp_adversarial import ask, config, final
from test_mcp_http_floods import flooding, recorded

from agent_core.tools.base import ToolOutcomeUnknown
from agent_core.tools.mcp_server import McpServer
from agent_core.tools.mcp_spec import McpServerSpec
from sessions import Home

if TYPE_CHECKING:
    from conftest import SignoffFactory


def open_sockets() -> int:
    fds = Path("/proc/self/fd")
    count = 0
    for fd in os.listdir(fds):
        try:
            count += os.readlink(fds / fd).startswith("socket:")
        except OSError:
            pass  # closed while listed
    return count


async def test_calls_that_time_out_on_an_answer_without_end_leave_no_stream_open(
    tmp_path: Path,
) -> None:
    # The server answers each call with an SSE stream of progress notes and never the
    # result. Each call timed out, uncertain, and its stream, its socket and its task
    # were kept: a server doing it to every call grew signoff's sockets without bound.
    with flooding(tmp_path, "--during", "endless") as url:
        server = McpServer("ops", McpServerSpec(url=url, timeout="2s"), health_interval=3600)
        try:
            await server.start()
            for _ in range(10):  # connected (a loaded machine may take more than 2 s)
                if await server.ensure() is None:
                    break
            before = (open_sockets(), len(asyncio.all_tasks()))
            for _ in range(4):
                with pytest.raises(ToolOutcomeUnknown, match="did not answer within 2s"):
                    await server.call("get_x", {"a": "1"}, approval_id="ap")
            # What a call leaves goes within a moment (the server may see the close late).
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 5
            while loop.time() < deadline:
                after = (open_sockets(), len(asyncio.all_tasks()))
                if after[0] <= before[0] and after[1] <= before[1]:
                    break
                await asyncio.sleep(0.05)
            assert after[0] <= before[0] and after[1] <= before[1], (before, after)
        finally:
            await server.aclose()
    assert [e["tool"] for e in recorded(tmp_path) if "tool" in e] == ["get_x"] * 4


@pytest.mark.parametrize(("size", "outcome"), [("big", "ok"), ("huge", "uncertain")])
async def test_an_sse_answer_is_held_to_the_limit_of_a_json_one_and_over_it_says_so(
    open_signoff: SignoffFactory, tmp_path: Path, home: Home, size: str, outcome: str
) -> None:
    # An answer in one SSE event was refused past 1 MiB (the SDK's bound), where a JSON
    # one may be 32 MiB, and the call said only that the connection broke. Now both are
    # 32 MiB, and a call answered past it says that its answer was too large.
    with flooding(tmp_path, "--during", size) as url:
        engine = await open_signoff(config(tmp_path / "signoff.toml", f'url = "{url}"'))
        await ask(engine, 'call ops__get_x {"a": "1"}', "1700000000.000100")
        status, content = final(home, "ops__get_x")
    assert status == outcome, content
    if outcome == "ok":
        assert content.startswith("xxxx"), content[:200]
    else:
        assert "sent an answer over 32 MiB, too large to read" in content, content
        assert "may or may not have taken effect" in content, content
    assert [e["tool"] for e in recorded(tmp_path) if "tool" in e] == ["get_x"]
    assert list(engine.errors) == []


@pytest.mark.parametrize("answer", ["expire", "redirect-host"])
async def test_a_call_answered_with_an_http_refusal_may_have_run_and_is_uncertain(
    open_signoff: SignoffFactory, tmp_path: Path, home: Home, answer: str
) -> None:
    # A 404 ("session terminated") or a redirect to elsewhere, to the call itself (its
    # listing just went through): the SDK makes it a JSON-RPC "invalid request", which
    # signoff read as the server refusing the call, not run, so asking again was safe.
    # It is the HTTP layer's answer, maybe a gateway's after the server took the call.
    with flooding(tmp_path, "--during", answer) as url:
        engine = await open_signoff(config(tmp_path / "signoff.toml", f'url = "{url}"'))
        await ask(engine, 'call ops__get_x {"a": "1"}', "1700000000.000100")
        status, content = final(home, "ops__get_x")
    assert status == "uncertain", content
    assert "refused" not in content and "may or may not have taken effect" in content, content
    assert [e["tool"] for e in recorded(tmp_path) if "tool" in e] == ["get_x"]
    assert list(engine.errors) == []
