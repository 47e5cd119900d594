"""An approved call a real MCP server answered with a JSON-RPC error ("Unknown tool",
-32602) is told to the thread with the server's refusal, and reads as a failed call on
its card and on its requester's Home tab, never "not run": the SDK's server passes on such an error from a tool that did its work
first, and "not run" invites asking again. Localslack, the real Bolt app and a real MCP
server over stdio.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import FAST
from mcp_e2e_kit import card_says, start_ops_bot
from mcp_fixture_kit import records
from signoff_e2e_kit import OPS, as_in_manifest, bot_reply, home_of, mention, until, wait_card

from bot.cards import APPROVE
from localslack import LocalSlack, WorkspaceConfig

if TYPE_CHECKING:
    from conftest import BotFactory


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=7, timing=FAST))) as server:
        yield server


async def test_a_call_the_server_refused_reads_its_refusal_never_not_run(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    _, record = await start_ops_bot(slack, start_bot, tmp_path, timeout="30s", coded=True)
    await slack.open_app_home(user="U0ALICE")
    thread = await mention(slack, "call ops__retire_node node=n1 code=-32602")
    card = await wait_card(slack, thread, timeout=30)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    told = await bot_reply(slack, thread, "Unknown tool", timeout=30)
    assert "not run" not in told["text"], told["text"]

    await until(card_says(slack, card, "ran: failed", lacks="not run"), what="a failed call")
    await home_of(slack, "U0ALICE", has="ran: failed", lacks="not run")
    assert len(records(record, "refused retire_node")) == 1
