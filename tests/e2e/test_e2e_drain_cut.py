"""A drain that runs out: ``signoff run`` gets SIGTERM while a tool call outlives
``SIGNOFF_DRAIN_S`` (or a second signal cuts the drain short). It still exits 0, leaves no
"is running…" status line on the thread for Slack to time out two minutes later, and the
next start finishes the thread: the cut call is reported, never run again, and the
question is answered once.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from live_kit import shown, status_sets
from ops_kit import Call, FakeOpenAI, RunProcess, slow_tool_bot
from signoff_e2e_kit import (
    bot_messages,
    bot_reply,
    mention,
    session_dirs,
    session_record,
    session_states,
    until,
)

from bot.config import Settings
from localslack import LocalSlack


def tool_starts(home: Path, tool: str) -> int:
    """How many times ``tool`` was started, over every session of the home (traces)."""
    count = 0
    for trace in (d / "trace.jsonl" for d in session_dirs(home)):
        for line in trace.read_text().splitlines():
            event = json.loads(line) if line.strip() else {}
            count += event.get("kind") == "tool_started" and event["data"]["tool"] == tool
    return count


def start(
    slack: LocalSlack, settings: Settings, model: FakeOpenAI, tmp_path: Path, *, drain_s: str
) -> RunProcess:
    return slow_tool_bot(
        slack, settings.home, model, tmp_path, module="slow_tools_cut", drain_s=drain_s
    )


@pytest.mark.parametrize("second", [None, signal.SIGINT, signal.SIGTERM])
async def test_a_drain_cut_clears_the_status_and_the_next_start_finishes(
    slack: LocalSlack, settings: Settings, tmp_path: Path, second: signal.Signals | None
) -> None:
    home = settings.home
    async with FakeOpenAI() as model:
        model.reply(tool_calls=[Call("slow_check", {"seconds": 60})])
        model.reply("The slow check was cut off; look again later.")
        await _cut_then_recovered(slack, settings, model, tmp_path, second=second)
    assert tool_starts(home, "slow_check") == 1


async def _cut_then_recovered(
    slack: LocalSlack,
    settings: Settings,
    model: FakeOpenAI,
    tmp_path: Path,
    *,
    second: signal.Signals | None,
) -> None:
    """SIGTERM with a tool running: the drain runs out (``second`` None), or a second
    signal during a drain longer than the test cuts it short (a person's Ctrl-C twice)."""
    home = settings.home
    run = start(slack, settings, model, tmp_path, drain_s="0.5" if second is None else "120")
    try:
        await slack.wait_for_sockets(1, timeout=30)
        thread = await mention(slack, "run the slow check")
        await until(lambda: (home / "slow-started").exists(), what="the slow tool to start")
        await until(lambda: shown(slack, thread) == "is running slow_check…", what="the status")
        run.terminate()
        if second is not None:
            await until(lambda: '"stopping"' in run.stderr(), what="the drain to begin")
            run.proc.send_signal(second)
        assert await run.exit_code(timeout=15) == 0, run.stderr()
    finally:
        run.kill()
    events = [line["event"] for line in run.log_lines()]  # JSON lines to the end
    assert ("drain_cut_short" in events) == (second is not None)
    assert events[-1] == "stopped"
    assert not (home / "slow-finished").exists()
    assert shown(slack, thread) is None, status_sets(slack, thread)
    assert list(session_states(home).values()) == ["interrupted"]  # cut, for recovery

    again = start(slack, settings, model, tmp_path, drain_s="5")
    try:
        # A process's start on a loaded machine took most of the reply's 10 s: counted apart.
        await slack.wait_for_sockets(1, timeout=30)
        await bot_reply(slack, thread, "cut off; look again later", timeout=20)
        await until(lambda: "interrupted" not in session_states(home).values(), what="recovery")
        again.terminate()
        assert await again.exit_code(timeout=15) == 0, again.stderr()
    finally:
        again.kill()
    assert again.log_lines()[-1]["event"] == "stopped"
    assert len(bot_messages(slack, thread, "look again later")) == 1
    states = session_states(home)
    assert sorted(states.values()) == ["completed", "failed"], states
    (cut,) = [s for s, state in states.items() if state == "failed"]
    assert session_record(home, cut)["transitions"][-1]["reason"].startswith("crashed")


async def test_two_signals_sent_at_once_cut_the_drain_short(
    slack: LocalSlack, settings: Settings, tmp_path: Path
) -> None:
    """A SIGTERM and a Ctrl-C that reach the loop together (it was busy, or they came at
    once): both set the same event before the stop began, which cleared it only then; the
    second was lost, and the drain ran its whole length."""
    home = settings.home
    async with FakeOpenAI() as model:
        model.reply(tool_calls=[Call("slow_check", {"seconds": 60})])
        run = start(slack, settings, model, tmp_path, drain_s="120")
        try:
            await slack.wait_for_sockets(1, timeout=30)
            await mention(slack, "run the slow check")
            await until(lambda: (home / "slow-started").exists(), what="the slow tool to start")
            run.terminate()
            run.proc.send_signal(signal.SIGINT)  # another kind: the kernel keeps both
            assert await run.exit_code(timeout=15) == 0, run.stderr()
        finally:
            run.kill()
    events = [line["event"] for line in run.log_lines()]
    assert "drain_cut_short" in events and events[-1] == "stopped", events
