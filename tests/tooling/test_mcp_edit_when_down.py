"""Edit & approve of an MCP tool whose server is down: the approver is told to come back,
never to deny a request nothing is wrong with."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engine_support import THREAD, message
from mcp_fixture_kit import server_table, stdio_command, write_config

from agent_core.arg_edit import EditForm
from agent_core.surface import RecordingSurface

if TYPE_CHECKING:
    from conftest import SignoffFactory

ASK = "<@U0SIGNOFF> call ops__restart_deployment deployment=api namespace=prod"


async def test_editing_while_the_server_is_down_says_to_try_later_not_to_deny(
    open_signoff: SignoffFactory, tmp_path: Path, record: Path, surface: RecordingSurface
) -> None:
    """The tool's version is unknown while its server is down ("unlisted"): the edit was
    refused with "the tool changed since it was asked for; deny this and ask again", and
    an approver who followed that denied a request that would have run once it was back."""
    down = tmp_path / "server-is-down"
    config = write_config(
        tmp_path / "signoff.toml", server_table(f"command = {stdio_command(record, down_if=down)}")
    )
    engine = await open_signoff(config)
    await engine.ingest(message(ASK, ts="1700000000.000100", thread=THREAD))
    await engine.idle()
    (card,) = surface.cards
    await engine.close()

    down.touch()
    engine = await open_signoff(config)
    refused = await engine.edit_form(card.id, user="U0BOB")
    assert isinstance(refused, str)
    assert "deny" not in refused and "not available right now" in refused
    _, problems = engine.check_edit(card.id, values={"deployment": "web", "namespace": "prod"})
    assert "deny" not in " ".join(problems.values())
    await engine.close()

    down.unlink()  # back: the same request is edited as ever
    engine = await open_signoff(config)
    assert isinstance(await engine.edit_form(card.id, user="U0BOB"), EditForm)
    await engine.close()
