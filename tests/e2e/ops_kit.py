"""Helpers for the operations tests: a slow tool module, a scripted model, ``signoff run``
as a child process with its logs kept apart from its stdout."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from signoff_e2e_kit import clean_env

from localslack import LocalSlack

# The fake OpenAI server lives beside the provider tests; it speaks the real wire format.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "providers"))

from fake_openai import Call, FakeOpenAI

__all__ = ["Call", "FakeOpenAI", "RunProcess", "slow_tool_bot", "write_slow_tool"]

SIGNOFF = str(Path(sys.executable).with_name("signoff"))
API_KEY = "sk-test-0123456789abcdefghij"

SLOW_TOOL = '''
import asyncio

from agent_core.tools import ToolContext, tool


@tool(parallel_safe=True)
async def slow_check(seconds: float, ctx: ToolContext) -> str:
    """Take a while, then answer (a stand-in for a slow health check).

    Args:
        seconds: how long it takes
    """
    (ctx.home / "slow-started").write_text("")
    await asyncio.sleep(seconds)
    (ctx.home / "slow-finished").write_text("")
    return "all good"


TOOLS = [slow_check]
'''


def write_slow_tool(directory: Path, module: str) -> str:
    """A SIGNOFF_TOOLS module, as README's "Writing a tool" describes, in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{module}.py").write_text(SLOW_TOOL)
    return module


class RunProcess:
    """``signoff run`` in a child process; stdout and stderr (the logs) in separate files."""

    def __init__(
        self,
        slack: LocalSlack,
        home: Path,
        logs: Path,
        *,
        http_port: int,
        stdout: int | None = None,
        **env: str,
    ) -> None:
        self.port = http_port
        self.secrets = (slack.bot_token, slack.app_token, API_KEY)
        full = clean_env(
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_APP_TOKEN=slack.app_token,
            SLACK_API_URL=slack.api_url,
            SIGNOFF_HOME=str(home),
            OPENAI_API_KEY=API_KEY,
            **{"SIGNOFF_DEMO": "1", **env},  # the simulated fleet, unless a test says otherwise
        )
        full["SIGNOFF_HTTP"] = f"127.0.0.1:{http_port}"
        logs.mkdir(parents=True, exist_ok=True)
        self.out_path = logs / "stdout"
        self.err_path = logs / "stderr"
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.proc = subprocess.Popen(
                [SIGNOFF, "run"],
                env=full,
                stdout=out if stdout is None else stdout,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def log_lines(self) -> list[dict[str, Any]]:
        """Every stderr line, parsed as JSON (fails on the first line that is not)."""
        lines = []
        for number, line in enumerate(self.stderr().splitlines(), 1):
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                raise AssertionError(f"stderr line {number} is not JSON: {line!r}") from None
        return lines

    async def connected(self, slack: LocalSlack) -> None:
        """Wait for its Socket Mode link; if it never comes, fail with what it logged."""
        try:
            await slack.wait_for_sockets(1, timeout=30)
        except TimeoutError:
            raise AssertionError("signoff run never connected:\n" + self.stderr()) from None

    def terminate(self) -> None:
        os.kill(self.proc.pid, signal.SIGTERM)

    async def exit_code(self, timeout: float) -> int:
        """Wait (without blocking the loop that serves LocalSlack) for the process to end."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self.proc.poll() is None:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"signoff run still running after {timeout}s:\n{self.stderr()}"
                )
            await asyncio.sleep(0.02)
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def slow_tool_bot(
    slack: LocalSlack, home: Path, model: FakeOpenAI, tmp_path: Path, *, module: str, drain_s: str
) -> RunProcess:
    """``signoff run`` on ``home`` with ``slow_check`` (``write_slow_tool``) as its tool,
    ``model`` (a Chat Completions fake) as its model and ``SIGNOFF_DRAIN_S=drain_s``; each
    start logs under a fresh ``logs-<n>`` of ``tmp_path``."""
    tools = tmp_path / "tools"
    return RunProcess(
        slack,
        home,
        tmp_path / f"logs-{len(list(tmp_path.glob('logs-*')))}",
        http_port=0,  # not asked: an ephemeral port, never one taken meanwhile
        SIGNOFF_MODEL="openai-compatible:fake",
        OPENAI_BASE_URL=model.base_url,
        SIGNOFF_TOOLS=write_slow_tool(tools, module),
        SIGNOFF_DRAIN_S=drain_s,
        PYTHONPATH=str(tools),
    )
