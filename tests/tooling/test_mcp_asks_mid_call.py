"""A tool of a real MCP server (the SDK's ``MCPServer``) that asks signoff something after
it has started: a person's answer (``ctx.elicit``), or MCP 2026's ``input_required``. It
did some of its work before it asked, so an approved call that ends so may have taken
effect: uncertain, said in words a person can act on, and never sent again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from mcp_fixture_kit import records
from test_mcp_tools import approved

from agent_core.surface import RecordingSurface
from sessions import Home

if TYPE_CHECKING:
    from conftest import SignoffFactory


@pytest.mark.parametrize("tool", ["drain_node", "cordon_node"])
@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_a_tool_that_asks_for_a_persons_answer_after_it_started_is_uncertain(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    record: Path,
    home: Home,
    surface: RecordingSurface,
    transport: str,
    tool: str,
    ops_config_with: Callable[..., Path],
) -> None:
    # drain_node: the server answers the call with INVALID_REQUEST ("Cannot send
    # 'elicitation/create'"), an error code that says a request was not run: signoff said
    # "refused the call". cordon_node: its answer is input_required, which the SDK's client
    # refuses with a RuntimeError telling a programmer to "pass allow_input_required=True",
    # and that was what the thread was told.
    engine = await open_signoff(ops_config_with(transport, asking=True))
    asked = f"call ops__{tool} node=n1"
    status, content = await approved(engine, home, surface, asked, f"ops__{tool}")
    assert len(records(record, tool)) == 1  # it started: its pods were evicted
    assert status == "uncertain", content
    assert "refused" not in content and "allow_input_required" not in content
    assert "asked for a person's answer (elicitation/create) after it had started" in content
    assert "may or may not have taken effect" in content
    told = surface.replies[-1][1]
    assert "elicitation/create" in told and "refused" not in told
    await engine.idle()
    assert len(records(record, tool)) == 1
