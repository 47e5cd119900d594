"""An approved call that waited for its MCP server stops saying so once it starts.

Its first try found the server down, so its card and its requester's Home said "⏳ Not
run yet: MCP server ops is down"; the server came back and the call was claimed and ran,
and for as long as it ran both still said it had not (a card drawn from disk in that
window too): an approver who believed them might ask again. Localslack, the real Bolt app
and a real MCP server over stdio whose ``hold_restart`` runs until the test lets it end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import FAST
from mcp_e2e_kit import approved_while_down, card_says, start_ops_bot
from mcp_fixture_kit import records
from signoff_e2e_kit import as_in_manifest, home_of, until

from localslack import LocalSlack, WorkspaceConfig
from sessions import FixedClock

if TYPE_CHECKING:
    from conftest import BotFactory


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=7, timing=FAST))) as server:
        yield server


async def test_a_deferred_call_that_started_no_longer_says_it_waits(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path, e2e_clock: FixedClock
) -> None:
    down = tmp_path / "down"
    bot, record = await start_ops_bot(
        slack, start_bot, tmp_path, timeout="60s", down_if=down, busy=True
    )
    go = record.with_name(record.name + ".go")  # made, hold_restart ends
    await slack.open_app_home(user="U0ALICE")
    _, card, _ = await approved_while_down(slack, record, down, "ops__hold_restart deployment=api")
    await until(
        card_says(slack, card, "Not run yet: MCP server ops is down"),
        what="the card to say it waits",
    )
    await home_of(slack, "U0ALICE", has="not run yet: MCP server ops is down")

    down.unlink()  # the server can start again; the next try claims and starts the call
    e2e_clock.advance(timedelta(minutes=5))
    await bot.engine.sweep()
    await until(lambda: records(record, "hold_restart"), timeout=30, what="the call to start")
    # It runs (held): neither the card nor the Home may still say it has not.
    running = await until(
        card_says(slack, card, "Approved by", lacks="Not run yet"),
        what="the card to drop 'Not run yet'",
    )
    assert "ran:" not in running, running  # still running: no outcome yet
    await home_of(slack, "U0ALICE", has="approved by", lacks="not run yet")
    assert not records(record, "hold_restart finished")

    go.touch()
    await until(card_says(slack, card, "ran: ok"), timeout=30, what="the card to show the run")
    assert len(records(record, "hold_restart")) == 1
