"""What people see after a drain cut a turn: the truth. ``signoff run`` gets SIGTERM while a
tool call outlives ``SIGNOFF_DRAIN_S`` and exits 0; until the next start nothing works on
the thread, so neither the home (``session.json``, ``signoff sessions``, ``signoff trace``)
nor Slack's agent session (``processing``, with a stop button that reaches nobody) may say
a turn runs. The cut session is ``interrupted``, and the next start still finishes it.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from live_kit import slack
from ops_kit import Call, FakeOpenAI, RunProcess, slow_tool_bot
from signoff_e2e_kit import (
    bot_messages,
    bot_reply,
    mention,
    session_record,
    session_states,
    until,
)
from test_e2e_live_session_truth import session_status

from agent_core.worker import CUT
from bot.config import Settings
from localslack import LocalSlack

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers_proc import cli, ok

__all__ = ["slack"]


def start(slack: LocalSlack, home: Path, model: FakeOpenAI, tmp_path: Path) -> RunProcess:
    return slow_tool_bot(slack, home, model, tmp_path, module="slow_tools_truth", drain_s="0.5")


async def cut_by_the_drain(slack: LocalSlack, home: Path, model: FakeOpenAI, tmp_path: Path) -> str:
    """Mention signoff, whose model asks for a minute-long tool; SIGTERM it while the tool
    runs (the thread's agent session ``processing``): the drain cuts the turn. The thread."""
    model.reply(tool_calls=[Call("slow_check", {"seconds": 60})])
    model.reply("The slow check was cut off; look again later.")
    run = start(slack, home, model, tmp_path)
    try:
        await run.connected(slack)
        thread = await mention(slack, "run the slow check")
        await until(lambda: (home / "slow-started").exists(), what="the slow tool to start")
        await until(lambda: session_status(slack, thread) == "processing", what="processing")
        run.terminate()
        assert await run.exit_code(timeout=15) == 0, run.stderr()
    finally:
        run.kill()
    assert run.log_lines()[-1]["event"] == "stopped"
    return thread


async def test_a_turn_cut_by_the_drain_is_interrupted_not_running(
    slack: LocalSlack, settings: Settings, tmp_path: Path
) -> None:
    home = settings.home
    async with FakeOpenAI() as model:
        thread = await cut_by_the_drain(slack, home, model, tmp_path)

        # What people see while no process runs: nothing claims to be working.
        ((cut, state),) = session_states(home).items()
        assert state == "interrupted"
        reason = session_record(home, cut)["transitions"][-1]["reason"]
        assert "stopped" in reason and "next start" in reason, reason
        assert session_status(slack, thread) != "processing"
        listed = ok(cli(home, "sessions")).stdout
        assert "interrupted" in listed and "running" not in listed, listed
        traced = ok(cli(home, "trace", cut)).stdout
        assert "interrupted" in traced and "next start" in traced, traced

        # Recovery still finishes it: the cut call is reported, never run again.
        again = start(slack, home, model, tmp_path)
        try:
            # A fresh `signoff run` starts and recovers first: on a busy machine (a test
            # run beside a soak) that took over the default 10 s.
            await bot_reply(slack, thread, "cut off; look again later", timeout=30)
            await until(
                lambda: "interrupted" not in session_states(home).values(),
                timeout=30,
                what="recovery to close it",
            )
            again.terminate()
            assert await again.exit_code(timeout=15) == 0, again.stderr()
        finally:
            again.kill()
    assert len(bot_messages(slack, thread, "look again later")) == 1
    assert not (home / "slow-finished").exists()
    after = session_states(home)
    assert sorted(after.values()) == ["completed", "failed"], after
    assert after[cut] == "failed"
    assert session_record(home, cut)["transitions"][-1]["reason"].startswith("crashed")
    assert session_status(slack, thread) == "active"


async def test_signoff_recover_leaves_no_interrupted_session_for_an_older_version(
    slack: LocalSlack, settings: Settings, tmp_path: Path
) -> None:
    """The rollback step of docs/operations.md: after a drain cut a turn, this version's
    ``signoff recover`` continues the thread and closes the cut session, so nothing on disk
    or in the index holds ``interrupted``, a state versions before 2026-12-06 cannot read."""
    home = settings.home
    async with FakeOpenAI() as model:
        await cut_by_the_drain(slack, home, model, tmp_path)
        ((cut, state),) = session_states(home).items()
        assert (state, session_record(home, cut)["transitions"][-1]["reason"]) == (
            "interrupted",
            CUT,
        )

        tools = tmp_path / "tools"
        env = {
            "SIGNOFF_MODEL": "openai-compatible:fake",
            "OPENAI_BASE_URL": model.base_url,
            "SIGNOFF_TOOLS": "slow_tools_truth",
            "PYTHONPATH": str(tools),
        }
        ok(await asyncio.to_thread(cli, home, "recover", env=env, fresh=True))
    after = session_states(home)
    assert sorted(after.values()) == ["completed", "failed"], after
    assert session_record(home, cut)["transitions"][-1]["reason"].startswith("crashed")
    listed = ok(cli(home, "sessions")).stdout
    assert "interrupted" not in listed and "completed" in listed, listed
    assert not (home / "slow-finished").exists()
