"""An approval of an MCP tool pins the server it goes to, not only the tool's schema: a
config that points ``[mcp.servers.ops]`` elsewhere while a request waits (another command,
another URL, another setting in its env) refuses the approved call. Where it was approved,
the same server under the same config still runs it once."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from mcp_fixture_kit import GATED_CARD_TOOL, records, server_table, stdio_command, write_config
from test_mcp_tools import ASK_RESTART, ask, final_status

from agent_core.surface import RecordingSurface
from agent_core.tools.mcp_spec import McpServerSpec
from sessions import Home

if TYPE_CHECKING:
    from conftest import SignoffFactory


def table(record: Path, env: str = "") -> str:
    return server_table(f"command = {stdio_command(record)}" + (f"\nenv = {env}" if env else ""))


@pytest.mark.parametrize("change", ["command", "setting"])
async def test_a_server_pointed_elsewhere_while_a_request_waits_runs_nothing(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    home: Home,
    surface: RecordingSurface,
    change: str,
) -> None:
    staging, prod = tmp_path / "staging.jsonl", tmp_path / "prod.jsonl"
    config = write_config(tmp_path / "signoff.toml", table(staging, '{ NS = "staging" }'))
    engine = await open_signoff(config)
    await ask(engine, ASK_RESTART, "1700000000.000100")
    (card,) = surface.cards
    # Approved while the kill switch held it; the config changes before it runs (a click
    # after the change is refused at once: tests/e2e/test_e2e_tool_gone_click.py).
    home.kill_switch.touch()
    await engine.decide(card.id, user="U0BOB", approve=True)
    await engine.idle()
    await engine.close()

    if change == "command":  # the same server program, started against another system
        write_config(config, table(prod, '{ NS = "staging" }'))
    else:
        write_config(config, table(staging, '{ NS = "prod" }'))
    engine = await open_signoff(config)
    home.kill_switch.unlink()
    await engine.sweep()
    await engine.idle()
    status, content = final_status(home, GATED_CARD_TOOL)
    assert (status, records(prod, "restart_deployment")) == ("error", [])
    assert records(staging, "restart_deployment") == []
    assert "not run: the tool changed since it was approved" in content


async def test_a_rotated_secret_of_the_server_leaves_the_approved_call_to_run(
    open_signoff: SignoffFactory, tmp_path: Path, home: Home, surface: RecordingSurface
) -> None:
    record = tmp_path / "calls.jsonl"
    config = write_config(tmp_path / "signoff.toml", table(record, '{ OPS_TOKEN = "one-1" }'))
    engine = await open_signoff(config)
    await ask(engine, ASK_RESTART, "1700000000.000100")
    (card,) = surface.cards
    await engine.close()

    write_config(config, table(record, '{ OPS_TOKEN = "two-2" }'))
    engine = await open_signoff(config)
    await engine.decide(card.id, user="U0BOB", approve=True)
    await engine.idle()
    assert final_status(home, GATED_CARD_TOOL)[0] == "ok"
    assert len(records(record, "restart_deployment")) == 1


def test_a_urls_password_and_headers_are_not_part_of_what_is_pinned() -> None:
    def where(url: str, token: str) -> str:
        spec = McpServerSpec(url=url, headers={"Authorization": f"Bearer {token}"})
        return spec.pinned_config

    base = where("https://u:one@mcp.example/mcp", "a1b2c3d4")
    assert where("https://u:two@mcp.example/mcp", "e5f6a7b8") == base
    assert where("https://u:one@mcp-prod.example/mcp", "a1b2c3d4") != base
    assert "one" not in base and "a1b2c3d4" not in base
