"""The bot with the test MCP server (``tests/tooling/ops_mcp_server.py``) over stdio, as
the MCP end-to-end tests start it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from signoff_e2e_kit import OPS, bot_reply, mention, outcome_text, until, wait_card

from bot.cards import APPROVE
from localslack import LocalSlack

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tooling"))

from mcp_fixture_kit import kill, records, server_table, stdio_command, write_config

if TYPE_CHECKING:
    from conftest import BotFactory

    from bot.app import SignoffBot

__all__ = ["approved_while_down", "card_says", "start_ops_bot"]


async def start_ops_bot(
    slack: LocalSlack,
    start_bot: BotFactory,
    tmp_path: Path,
    *,
    timeout: str,
    down_if: Path | None = None,
    asking: bool = False,
    busy: bool = False,
    coded: bool = False,
) -> tuple[SignoffBot, Path]:
    """The bot with the ops server over stdio and ``timeout``, and the server's record."""
    record = tmp_path / "ops-calls.jsonl"
    command = stdio_command(record, down_if=down_if, asking=asking, busy=busy, coded=coded)
    config = write_config(
        tmp_path / "signoff.toml", server_table(f"command = {command}", timeout=timeout)
    )
    bot = await start_bot(config_path=config, demo_tools=False)
    await slack.wait_for_sockets(1, timeout=5)
    # The server's start counts against ``timeout`` (2 s in some tests): on a loaded
    # machine a first attempt may miss it and a retry come later. Mention once offered.
    await until(
        lambda: any(s.name.startswith("ops__") for s in bot.engine.tools.specs()),
        timeout=60,
        what="the ops server's tools to be offered",
    )
    return bot, record


async def approved_while_down(
    slack: LocalSlack, record: Path, down: Path, call: str
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """``call`` asked, then approved by U0BOB with the ops server down (``down`` made, the
    server killed): its thread, its card and the thread's "did not run" reply."""
    thread = await mention(slack, "call ops__get_pods namespace=prod")
    # Bounds, not a pace: the server's first start is slow on a machine loaded past its cores.
    await bot_reply(slack, thread, "pods in prod", timeout=30)
    thread = await mention(slack, f"call {call}")
    card = await wait_card(slack, thread, timeout=30)
    down.touch()
    kill(records(record)[-1]["pid"])  # the server dies, and does not start again
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    told = await bot_reply(slack, thread, "did not run", timeout=15)
    return thread, card, told


def card_says(
    slack: LocalSlack, card: dict[str, Any], part: str, *, lacks: str = ""
) -> Callable[[], str]:
    """A condition: the card's outcome as shown, once it has ``part`` and not ``lacks``."""

    def shown() -> str:
        text = outcome_text(slack.workspace.get(OPS, card["ts"]))
        return text if part in text and not (lacks and lacks in text) else ""

    return shown
