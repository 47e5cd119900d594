"""An HTTP MCP server configured by a host name that does not resolve (a name under the
reserved ``.invalid`` TLD, RFC 6761: it fails here without a network): the bot starts all
the same, logs once why the server is down in plain words, and a person who asks for one
of its tools, gated or not, is told that reason in the thread; no card is posted for a
call that could not be checked."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from signoff_e2e_kit import bot_reply, cards, mention

from localslack import LocalSlack

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tooling"))

from mcp_fixture_kit import server_table, write_config

if TYPE_CHECKING:
    from conftest import BotFactory

WHY = "MCP server ops is down: its host name mcp.ops.invalid does not resolve"


async def test_a_server_whose_host_does_not_resolve_is_said_so(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    config = write_config(
        tmp_path / "signoff.toml",
        server_table('url = "http://mcp.ops.invalid:8080/mcp"', timeout="5s"),
    )
    await start_bot(config_path=config, demo_tools=False)
    await slack.wait_for_sockets(1, timeout=5)
    said = [r.getMessage() for r in caplog.records if "MCP server ops" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith(WHY), said

    ungated = await mention(slack, "call ops__get_pods namespace=prod")
    told = await bot_reply(slack, ungated, "failed", timeout=15)
    assert f"`ops__get_pods` failed: ops__get_pods is not available now: {WHY}" in told["text"]

    gated = await mention(slack, "call ops__restart_deployment deployment=api namespace=prod")
    told = await bot_reply(slack, gated, "failed", timeout=15)
    assert (
        f"`ops__restart_deployment` failed: ops__restart_deployment is not available now: {WHY}"
        in (told["text"])
    )
    assert cards(slack, gated) == []  # nothing to approve: the call could not be checked
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Traceback" not in logged and "All connection attempts failed" not in logged
