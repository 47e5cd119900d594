"""An HTTP MCP server that restarts while an approved call waits (its sessions lost, the
same tools on the same address) while signoff runs on: the approved call runs exactly once
on the new server, with the approved arguments, or is deferred and run once later; never
sent twice, never lost as a crash."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from mcp_fixture_kit import GATED_CARD_TOOL, HttpOpsServer, records, server_table, write_config
from test_mcp_tools import ASK_RESTART, ask, final_status

from agent_core.surface import RecordingSurface
from sessions import FixedClock, Home

if TYPE_CHECKING:
    from conftest import SignoffFactory


async def test_a_server_restarted_under_a_running_signoff_runs_the_approved_call_once(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    record: Path,
    home: Home,
    clock: FixedClock,
    surface: RecordingSurface,
    http_ops: HttpOpsServer,
) -> None:
    config = write_config(tmp_path / "signoff.toml", server_table(f'url = "{http_ops.url}"'))
    engine = await open_signoff(config)
    await ask(engine, ASK_RESTART, "1700000000.000100")
    (card,) = surface.cards
    http_ops.restart()  # signoff's session with it is gone with the old process
    await engine.decide(card.id, user="U0BOB", approve=True)
    await engine.idle()
    for _ in range(20):  # a deferral is retried by the sweep; each pass is one chance
        if records(record, "restart_deployment"):
            break
        clock.advance(timedelta(minutes=10))
        await engine.sweep()
        await engine.idle()
    calls = records(record, "restart_deployment")
    assert [c["arguments"] for c in calls] == [{"deployment": "api", "namespace": "prod"}]
    assert calls[0]["approval_id"] == card.id
    assert final_status(home, GATED_CARD_TOOL)[0] == "ok"
