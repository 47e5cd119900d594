"""A terminal whose MCP server is down still approves: the call waits for its server, as
it does in the bot, and is not taken for a tool of another version.

Localslack, the real Bolt app and a real MCP server over stdio; the terminal is a real
``signoff`` process with the bot's SIGNOFF_CONFIG.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from mcp_e2e_kit import card_says, start_ops_bot
from mcp_fixture_kit import kill, records
from signoff_e2e_kit import bot_reply, decision, mention, until, wait_card

from bot.config import Settings
from localslack import LocalSlack
from sessions import FixedClock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers_proc import cli

if TYPE_CHECKING:
    from conftest import BotFactory


@pytest.fixture
def e2e_clock() -> FixedClock:
    # The terminal runs on the real clock (frozen, its MCP server's start-up timers would
    # never fire): the bot's starts at the same moment, so the request is not past due there.
    return FixedClock(datetime.now(UTC))


async def test_a_terminal_with_its_mcp_server_down_approves_a_call_that_then_waits(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    tmp_path: Path,
    e2e_clock: FixedClock,
) -> None:
    down = tmp_path / "down"
    bot, record = await start_ops_bot(
        slack, start_bot, tmp_path, timeout="60s", down_if=down, busy=True
    )
    record.with_name(record.name + ".go").touch()  # hold_restart ends at once
    await bot_reply(slack, await mention(slack, "call ops__get_pods namespace=prod"), "pods", 30)
    thread = await mention(slack, "call ops__hold_restart deployment=api")
    card = await wait_card(slack, thread, timeout=30)
    approval = card["blocks"][-1]["elements"][0]["value"]
    down.touch()
    kill(records(record)[-1]["pid"])  # the server dies, and does not start again

    # The terminal's own server cannot start either: the tool's version is unknown there,
    # which is not a change of the tool. The approval is recorded and the call waits.
    done = await asyncio.to_thread(
        cli,
        settings.home,
        *("approve", approval, "--as", "U0BOB"),
        env={"SIGNOFF_CONFIG": str(tmp_path / "signoff.toml"), "SIGNOFF_DEMO": "0"},
    )
    # Recorded, but not run here: said in one line, and exit 3 (the work is not done).
    assert done.returncode == 3, done
    line = done.stderr.splitlines()[-1]  # after the warnings of its start
    assert approval in line and "did not run here" in line, done
    assert "another version" not in done.stdout + done.stderr, done
    assert decision(settings.home, approval) is not None
    await until(card_says(slack, card, "Not run yet"), what="the card to say it waits")

    # The server back, the bot's next try runs it once.
    down.unlink()
    e2e_clock.advance(timedelta(minutes=5))
    await bot.engine.sweep()
    await until(lambda: records(record, "hold_restart"), timeout=30, what="the call to start")
    assert len(records(record, "hold_restart")) == 1
