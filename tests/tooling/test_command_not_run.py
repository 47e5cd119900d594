"""A command tool's program that cannot be started (gone from its path since the request)
did not run: the model is told "not run", and the card says so. It was told as a call that
ran and failed ("ran: failed"), though nothing had been started."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from engine_support import message, transcript
from mcp_fixture_kit import toml_str, write_config

from agent_core.card_entries import card_view
from agent_core.messages import ToolResultMessage
from agent_core.surface import RecordingSurface
from approvals import ApprovalRequest
from bot.cards import card_blocks
from sessions import FixedClock, Home

if TYPE_CHECKING:
    from conftest import SignoffFactory


async def test_an_approved_command_whose_program_is_gone_reads_not_run(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    home: Home,
    surface: RecordingSurface,
    clock: FixedClock,
) -> None:
    program = tmp_path / "bin" / "rollout"
    program.parent.mkdir()
    program.write_text(f"#!{sys.executable}\nimport sys\nprint('restarted', sys.argv[1])\n")
    program.chmod(0o755)
    config = write_config(
        tmp_path / "signoff.toml",
        "[commands.rollout_restart]\n"
        'description = "Restart a deployment"\n'
        f'argv = [{toml_str(program)}, "{{deployment}}"]\n'
        'params.deployment = { type = "string", pattern = "^[a-z0-9-]{1,63}$" }\n',
    )
    engine = await open_signoff(config)
    await engine.ingest(message("call rollout_restart deployment=api", ts="1700000000.000100"))
    await engine.idle()
    (capsule,) = surface.cards
    program.unlink()  # uninstalled while the request waited
    await engine.decide(capsule.id, user="U0BOB", approve=True)
    await engine.idle()

    (result,) = [m for m in transcript(home) if isinstance(m, ToolResultMessage)]
    assert result.status == "error", result
    assert result.content.startswith(f"not run: could not start {program}"), result.content
    request = ApprovalRequest.open(home, capsule.id, clock=clock)
    card = json.dumps(card_blocks(card_view(request)), ensure_ascii=False)
    assert f"_not run_: could not start {program}" in card, card
    assert "ran: failed" not in card, card
