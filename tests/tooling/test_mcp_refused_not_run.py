"""An approved call a real MCP server refuses outright (a JSON-RPC error that says the
request was never started: "unknown tool", invalid params, method not found) did not run,
and everything that shows it says so: the model, the card, the Home tab and the audit.

They said "ran: failed", as if it had run and failed: a person reading the card could not
tell a refused call (nothing happened, safe to ask again) from one that failed halfway.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from mcp_fixture_kit import records
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


@pytest.mark.parametrize("code", [-32602, -32601])
@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_a_call_the_server_refused_outright_reads_not_run_everywhere(
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
    asked = f"call ops__retire_node node=n1 code={code}"
    status, content = await approved(engine, home, surface, asked, "ops__retire_node")
    assert status == "error", content
    assert content.startswith("not run: "), content  # the model is told it did not run
    assert "Unknown tool: retire_node" in content, content
    assert len(records(record, "refused retire_node")) == 1
    assert records(record, "retire_node") == []

    (capsule,) = surface.cards
    request = ApprovalRequest.open(home, capsule.id, clock=clock)
    result = request.result()
    assert result is not None and not result.ran
    card = json.dumps(card_blocks(card_view(request)), ensure_ascii=False)
    assert "_not run_: MCP server ops refused the call: Unknown tool: retire_node" in card, card
    assert "ran: failed" not in card, card

    (item,) = await engine.recently_decided("U0ALICE")
    mine = HomeContent(user="U0ALICE", waiting=(), mine=(), decided=(item,), now=clock.now())
    shown = json.dumps(home_view(mine)["blocks"], ensure_ascii=False)
    assert "not run: MCP server ops refused the call" in shown, shown
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
