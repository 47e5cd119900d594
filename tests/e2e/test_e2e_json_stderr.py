"""With ``SIGNOFF_LOG_FORMAT=json`` every line on stderr is JSON, including what Python
itself prints there: a warning, an exception escaping a thread, a task's exception nobody
retrieved, an exception in ``__del__``, and a crash at the top level. Each is one line
naming the exception's type and message.

``signoff run`` is a real child process against LocalSlack; the model (the real OpenAI
adapter against a local fake) calls a ``SIGNOFF_TOOLS`` tool that makes each happen.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from ops_kit import Call, FakeOpenAI, RunProcess
from signoff_e2e_kit import bot_reply, clean_env, mention

from bot.config import Settings
from localslack import LocalSlack

NOISY_TOOL = '''
import asyncio
import gc
import threading
import warnings

from agent_core.tools import ToolContext, tool

# At import, which `signoff run` does while it checks its configuration.
warnings.warn("noisy_tools is imported", UserWarning)


class Leaky:
    def __del__(self) -> None:
        raise RuntimeError("raised in __del__")


async def _fail() -> None:
    raise KeyError("nobody awaited me")


@tool(parallel_safe=True)
async def noisy_check(ctx: ToolContext) -> str:
    """Make Python print to stderr in every way it does."""
    warnings.warn("the fleet API is deprecated", FutureWarning)
    worker = threading.Thread(target=lambda: 1 / 0, name="noisy-worker")
    worker.start()
    worker.join()
    task = asyncio.get_running_loop().create_task(_fail())
    await asyncio.sleep(0)
    del task
    gc.collect()
    Leaky()
    return "all quiet"


TOOLS = [noisy_check]
'''


@pytest.fixture
async def model() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as api:
        api.reply(tool_calls=[Call("noisy_check", {})])
        api.reply("The noisy check says all quiet.")
        yield api


def with_exception(lines: list[dict[str, Any]], exc_type: str) -> dict[str, Any]:
    found = [line for line in lines if line.get("exc_type") == exc_type]
    assert len(found) == 1, (exc_type, lines)
    return found[0]


async def test_what_python_prints_on_stderr_is_json_lines_too(
    slack: LocalSlack, settings: Settings, model: FakeOpenAI, tmp_path: Path
) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "noisy_tools.py").write_text(NOISY_TOOL)
    run = RunProcess(
        slack,
        settings.home,
        tmp_path / "logs",
        http_port=0,  # not asked: an ephemeral port, never one taken meanwhile
        SIGNOFF_MODEL="openai-compatible:fake",
        OPENAI_BASE_URL=model.base_url,
        SIGNOFF_TOOLS="noisy_tools",
        SIGNOFF_LOG_FORMAT="json",
        PYTHONPATH=str(tools),
    )
    try:
        await run.connected(slack)
        thread = await mention(slack, "run the noisy check")
        await bot_reply(slack, thread, "all quiet")
        run.terminate()
        assert await run.exit_code(timeout=20) == 0, run.stderr()
    finally:
        run.kill()
    lines = run.log_lines()  # every line is JSON
    warned = [line for line in lines if line["logger"] == "py.warnings"]
    assert [("UserWarning: noisy_tools is imported" in w["event"]) for w in warned] == [True, False]
    assert "FutureWarning: the fleet API is deprecated" in warned[1]["event"]
    thread_line = with_exception(lines, "ZeroDivisionError")
    assert thread_line["level"] == "error" and "noisy-worker" in thread_line["event"]
    assert "Traceback" in thread_line["exc"]
    task_line = with_exception(lines, "KeyError")
    assert task_line["exc_message"] == "'nobody awaited me'"
    assert "never retrieved" in task_line["event"]
    assert with_exception(lines, "RuntimeError")["exc_message"] == "raised in __del__"
    assert lines[-1]["event"] == "stopped"


CRASH = """
import sys
from bot.logs import setup_logging

setup_logging(format="json", level="INFO")
raise RuntimeError("something nobody expected\\non two lines")
"""


def test_a_crash_at_the_top_level_is_one_json_line() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CRASH],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    (line,) = [json.loads(text) for text in done.stderr.splitlines()]
    assert (line["level"], line["exc_type"]) == ("critical", "RuntimeError")
    assert line["exc_message"] == "something nobody expected"  # its first line
    assert 'File "<string>", line 6' in line["exc"]  # the traceback, in the same line
