"""Terminal commands on the home of a running ``signoff run``, each in its own process.

The bot is a real subprocess connected to LocalSlack; the command is another one, as an
operator would run it beside the bot. What either knows of the other it reads from disk.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from ops_kit import RunProcess
from signoff_e2e_kit import (
    approval_id_of,
    bot_messages,
    clean_env,
    mention,
    session_states,
    thread_path,
    until,
    wait_card,
)

from bot.config import Settings
from localslack import LocalSlack

SIGNOFF = str(Path(sys.executable).with_name("signoff"))

# A tool that runs until the test lets it end, so a turn is in flight for as long as needed.
GATED_TOOL = '''
import asyncio

from agent_core.tools import ToolContext, tool


@tool
async def gated_check(ctx: ToolContext) -> str:
    """Check something until told to stop (a stand-in for a long health check)."""
    (ctx.home / "gated-started").write_text("")
    while not (ctx.home / "go").exists():
        await asyncio.sleep(0.02)
    return "all good"


@tool(requires_human_approval=True)
async def flip(ctx: ToolContext) -> str:
    """Flip a switch (needs an approval)."""
    (ctx.home / "flipped").write_text("")
    return "flipped"


TOOLS = [gated_check, flip]
'''


def has_open(pid: int, path: Path) -> bool:
    """Does process ``pid`` hold a descriptor on ``path`` (a lock it waits for)?"""
    fds = Path(f"/proc/{pid}/fd")
    try:
        names = os.listdir(fds)
    except FileNotFoundError:
        return False
    for name in names:
        try:
            if os.readlink(fds / name) == str(path):
                return True
        except FileNotFoundError:
            continue
    return False


def gated_bot(slack: LocalSlack, home: Path, tmp_path: Path) -> tuple[RunProcess, dict[str, str]]:
    """A ``signoff run`` with the tools above, and the environment of a command beside it."""
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "gatedtools.py").write_text(GATED_TOOL)
    env = {"SIGNOFF_MODEL": "offline", "SIGNOFF_TOOLS": "gatedtools", "PYTHONPATH": str(tools)}
    bot = RunProcess(
        slack,
        home,
        tmp_path / "bot",
        http_port=0,  # not asked: an ephemeral port, never one taken meanwhile
        SIGNOFF_MODEL="offline",
        SIGNOFF_TOOLS="gatedtools",
        PYTHONPATH=str(tools),
    )
    command = clean_env(
        SIGNOFF_HOME=str(home),
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_APP_TOKEN=slack.app_token,
        SLACK_API_URL=slack.api_url,
        **env,
    )
    return bot, command


@asynccontextmanager
async def command(env: dict[str, str], *args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """``signoff <args>`` beside the bot, killed if the block leaves it running."""
    proc = await asyncio.create_subprocess_exec(
        SIGNOFF, *args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_recover_beside_a_running_turn_counts_no_crash_and_leaves_the_turn_to_the_bot(
    slack: LocalSlack, settings: Settings, tmp_path: Path
) -> None:
    home = settings.home
    bot, env = gated_bot(slack, home, tmp_path)
    try:
        await bot.connected(slack)
        thread = await mention(slack, "call gated_check")
        await until(lambda: (home / "gated-started").exists(), timeout=20, what="the turn")

        async with command(env, "recover") as recover:
            # It found the running session and now waits for its thread (the bot holds it).
            await until(
                lambda: (
                    has_open(recover.pid, thread_path(home, thread))
                    or recover.returncode is not None
                ),
                timeout=30,
                what="recover to wait for the bot's thread",
            )
            (home / "go").write_text("")
            async with asyncio.timeout(30):
                out, err = await recover.communicate()
        assert recover.returncode == 0, err.decode()
        counts = dict(item.split("=") for item in out.decode().split())
        # The session was the bot's, running, not something a crash left: nothing to report.
        assert counts["crashed"] == "0", counts

        await until(lambda: bot_messages(slack, thread), timeout=20, what="the reply")
        bot.terminate()
        assert await bot.exit_code(timeout=30) == 0, bot.stderr()
    finally:
        bot.kill()
    [reply] = bot_messages(slack, thread)
    assert reply["text"].startswith("✅ `gated_check` finished")
    assert set(session_states(home).values()) == {"completed"}


async def test_approve_beside_a_running_turn_says_its_decision_at_once(
    slack: LocalSlack, settings: Settings, tmp_path: Path
) -> None:
    # The bot runs a long turn in the thread of a waiting request; a terminal approval is
    # recorded at once but then waits for that turn. It said nothing until the turn ended,
    # which an operator takes for a hang: the decision is said first.
    home = settings.home
    bot, env = gated_bot(slack, home, tmp_path)
    try:
        await bot.connected(slack)
        thread = await mention(slack, "call flip")
        card = await wait_card(slack, thread)
        await mention(slack, "call gated_check", thread_ts=thread)
        await until(lambda: (home / "gated-started").exists(), timeout=20, what="the turn")
        async with command(env, "approve", approval_id_of(card), "--as", "U0BOB") as approve:
            assert approve.stdout is not None
            async with asyncio.timeout(30):  # while the bot's turn still runs
                first = await approve.stdout.readline()
            assert first.decode().strip() == "approved by U0BOB"
            assert approve.returncode is None and not (home / "flipped").exists()
            (home / "go").write_text("")
            async with asyncio.timeout(30):
                _, err = await approve.communicate()
        assert approve.returncode == 0, err.decode()
        await until(lambda: (home / "flipped").exists(), timeout=20, what="the approved call")
        bot.terminate()
        assert await bot.exit_code(timeout=30) == 0, bot.stderr()
    finally:
        bot.kill()
