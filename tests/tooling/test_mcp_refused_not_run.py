"""An approved MCP call reads "not run" only when signoff knows nothing was sent, and
everything that shows it says so: the model, the card, the Home tab and the audit.

"Not run" invites asking again, so it is said on signoff's own word only (the server down
before the call was sent, the tool changed or gone since it was approved). A JSON-RPC error
the server answered is no such word: the SDK's server passes on an ``MCPError`` a tool
raised after it did its work (-32602 and -32600 included), so a refusal reads as the
server's, a failure, never "not run" (a reviewer found a rollout that ran, told "not run").
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from mcp_fixture_kit import records
from test_mcp_adversarial import ROGUE, ask, command, config, final
from test_mcp_tools import approved

from agent_core.audit_outcome import outcome
from agent_core.card_entries import card_view
from agent_core.surface import RecordingSurface
from approvals import ApprovalRequest, ExecutionResult
from bot.cards import card_blocks
from bot.home import HomeContent, home_view
from sessions import FixedClock, Home

if TYPE_CHECKING:
    from conftest import SignoffFactory


@pytest.mark.parametrize("code", [-32602, -32600, -32601])
@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_an_error_the_server_answered_is_never_told_not_run(
    open_signoff: SignoffFactory,
    home: Home,
    record: Path,
    surface: RecordingSurface,
    clock: FixedClock,
    ops_config_with: Callable[..., Path],
    transport: str,
    code: int,
) -> None:
    engine = await open_signoff(ops_config_with(transport, coded=True))
    asked = f"call ops__rollout deployment=api code={code}"
    status, content = await approved(engine, home, surface, asked, "ops__rollout")
    assert len(records(record, "rollout")) == 1  # it ran, then answered the error
    assert status == "error" and "not run" not in content, content
    assert "rollout of api failed upstream" in content, content
    (capsule,) = surface.cards
    request = ApprovalRequest.open(home, capsule.id, clock=clock)
    result = request.result()
    assert result is not None and result.ran
    card = json.dumps(card_blocks(card_view(request)), ensure_ascii=False)
    assert "not run" not in card, card
    said, _, _ = outcome(request, request.decision())
    assert "not run" not in said, said


async def test_a_call_not_sent_reads_not_run_everywhere(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    record: Path,
    home: Home,
    surface: RecordingSurface,
    clock: FixedClock,
) -> None:
    # The tool's schema changes between the approval and the call: signoff sends nothing.
    flip = tmp_path / "flip"
    transport = command(ROGUE, "--record", record, "--flip-when", flip)
    engine = await open_signoff(config(tmp_path / "signoff.toml", transport))
    await ask(engine, "call ops__restart_deployment deployment=api", "1700000000.000100")
    (capsule,) = surface.cards
    flip.touch()
    await engine.decide(capsule.id, user="U0BOB", approve=True)
    await engine.idle()
    assert records(record) == []
    status, content = final(home, "ops__restart_deployment")
    assert status == "error" and content.startswith("not run: "), content
    why = "the tool changed since it was approved"
    assert why in content, content

    request = ApprovalRequest.open(home, capsule.id, clock=clock)
    result = request.result()
    assert result is not None and not result.ran
    card = json.dumps(card_blocks(card_view(request)), ensure_ascii=False)
    assert f"_not run_: {why}" in card, card
    assert "ran: failed" not in card, card

    (item,) = await engine.recently_decided("U0ALICE")
    mine = HomeContent(user="U0ALICE", waiting=(), mine=(), decided=(item,), now=clock.now())
    shown = json.dumps(home_view(mine)["blocks"], ensure_ascii=False)
    assert f"not run: {why}" in shown, shown
    assert "ran: failed" not in shown, shown

    said, _, _ = outcome(request, request.decision())
    assert said == "refused when called: not run", said


def test_a_result_says_it_did_not_run_only_in_a_record_no_older_version_misreads() -> None:
    """A result refused before it ran is version 2, with ``ran``; any other is written as
    version 1, as before (every version reads it), and a version-1 result reads as ran."""
    base: dict[str, Any] = {"approval_id": "appr_0123456789abcdef", "ok": False}
    base |= {"session_id": "sess_0123456789ab", "at": "2026-12-07T09:00:00.000Z"}
    base |= {"output": "not run: refused"}
    refused = ExecutionResult(**base, ran=False)
    dumped = json.loads(refused.model_dump_json())
    assert (dumped["schema_version"], dumped["ran"]) == (2, False)
    assert ExecutionResult.model_validate_json(refused.model_dump_json()) == refused
    failed = json.loads(ExecutionResult(**base).model_dump_json())
    assert failed["schema_version"] == 1 and "ran" not in failed
    assert ExecutionResult.model_validate(failed).ran
