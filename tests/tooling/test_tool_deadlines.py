"""The executor's own deadline (``Runtime.tool_timeout_seconds``, or a tool's timeout plus
10 s) cuts a call that is already running: whatever it did so far stands, so the result
is *uncertain*, never a plain failure the model would try again.

An MCP call reaches it when the server is slow to list as well as to answer: the call
re-lists first (up to ``timeout``, and up to three times that when it must reconnect)
and then waits up to ``timeout`` for the answer, so with ``timeout = "5m"`` a listing of
20 s and an answer after 4 min 55 s meet the executor's 310 s while the server works.
A Python function meets it the same way, and quickly, so it stands for both here.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from engine_support import EngineFactory, message, transcript

from agent_core.messages import ToolResultMessage
from agent_core.offline import OfflineModel
from agent_core.tools import ToolRegistry, tool
from sessions import Home


async def test_a_call_cut_at_the_executors_deadline_is_uncertain(
    make_engine: EngineFactory, home: Home, tmp_path: Path
) -> None:
    done = tmp_path / "it-happened"

    @tool
    async def slow_change(target: str) -> str:
        """Change something, then take long to say so."""
        done.write_text(target)  # the change is made...
        await asyncio.sleep(3600)  # ...and the answer never comes in time
        return "changed"

    engine = await make_engine(
        OfflineModel(), ToolRegistry([slow_change]), tool_timeout_seconds=0.5
    )
    await engine.ingest(message("call slow_change target=api", ts="1700000000.000100"))
    await engine.idle()
    assert done.read_text() == "api"
    (result,) = [m for m in transcript(home) if isinstance(m, ToolResultMessage)]
    assert result.status == "uncertain", result.content
