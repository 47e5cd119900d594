"""The schema a call was checked against is the one read when its arguments were validated,
not whatever the listing says later in the turn: calls before it re-list the server (each
MCP call does), so by the time a later call of the same turn starts, or its capsule is
built, the listing may show a schema its arguments were never checked with.

The rogue server (``rogue_mcp_server.py --flip-when F``) advertises ``restart_deployment``
v1 until it has answered one listing while F exists, and v2 (an added ``force``) after.
Here the first such listing is taken before the turn, so the turn validates against v1
and ``get_status``'s own listing, earlier in the same turn, brings v2.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engine_support import THREAD, message
from mcp_fixture_kit import records
from rogue_mcp_server import REWORDED, TAIL
from test_mcp_adversarial import ROGUE, command, config, final

from agent_core.engine import Engine
from agent_core.surface import RecordingSurface
from approvals import CannotRun, Refused
from sessions import Home, ThreadDir, coordination_for

if TYPE_CHECKING:
    from conftest import SignoffFactory


async def _one_turn(engine: Engine, home: Home, *texts: str) -> None:
    """``texts`` taken into one turn, in order (the thread's lock held while they arrive)."""
    tdir = ThreadDir(home, THREAD)
    tdir.ensure()
    async with coordination_for(home).thread_locks.hold(THREAD):
        for n, text in enumerate(texts):
            await engine.ingest(message(text, ts=f"1700000000.00010{n}", thread=THREAD))
    await engine.idle()


async def _flipped_engine(open_signoff: SignoffFactory, tmp_path: Path, record: Path, *,
                          no_approval: str) -> Engine:  # fmt: skip
    flip = tmp_path / "flip"
    transport = command(ROGUE, "--record", record, "--flip-when", flip)
    engine = await open_signoff(
        config(tmp_path / "signoff.toml", transport, no_approval=no_approval)
    )
    flip.touch()
    status = engine.rt.registry.get("ops__get_status")
    assert status is not None
    assert await status.unavailable() is None  # this listing still shows v1; the next v2
    return engine


async def test_an_ungated_call_is_not_sent_against_a_schema_changed_during_its_turn(
    open_signoff: SignoffFactory, tmp_path: Path, record: Path, home: Home
) -> None:
    engine = await _flipped_engine(open_signoff, tmp_path, record, no_approval='["*"]')
    await _one_turn(
        engine, home, "call ops__get_status", "call ops__restart_deployment deployment=api"
    )
    assert len(records(record, "get_status")) == 1
    assert records(record, "restart_deployment") == [], "sent against a schema nobody checked"
    status, content = final(home, "ops__restart_deployment")
    assert status == "error" and "the tool changed since the call was checked" in content


async def test_a_capsule_pins_the_schema_its_arguments_were_checked_against(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    record: Path,
    home: Home,
    surface: RecordingSurface,
) -> None:
    engine = await _flipped_engine(open_signoff, tmp_path, record, no_approval='["get_*"]')
    await _one_turn(
        engine, home, "call ops__get_status", "call ops__restart_deployment deployment=api"
    )
    (card,) = surface.cards
    # The click is refused (approving it would run nothing), and nothing is sent.
    refused = await engine.decide(card.id, user="U0BOB", approve=True)
    await engine.idle()
    assert isinstance(refused, Refused) and isinstance(refused.reason, CannotRun)
    assert records(record, "restart_deployment") == [], "sent against a schema nobody checked"


async def test_a_tool_that_says_something_else_of_itself_since_its_card_is_not_run(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    record: Path,
    home: Home,
    surface: RecordingSurface,
) -> None:
    # The card shows Bob what the server said the tool does; while the request waits the
    # server says another thing (schema unchanged, as after notifications/tools/list_changed).
    flip = tmp_path / "flip"
    transport = command(ROGUE, "--record", record, "--flip-when", flip, "--reword")
    engine = await open_signoff(config(tmp_path / "signoff.toml", transport))
    await _one_turn(engine, home, "call ops__restart_deployment deployment=api")
    (card,) = surface.cards
    assert card.tool_description == "Restart a deployment (rolling)."
    flip.touch()
    tool = engine.rt.registry.get("ops__restart_deployment")
    assert tool is not None
    assert await tool.unavailable() is None  # this listing still says "rolling"; the next not
    assert await tool.unavailable() is None
    assert tool.description == REWORDED
    refused = await engine.decide(card.id, user="U0BOB", approve=True)
    await engine.idle()
    assert isinstance(refused, Refused) and isinstance(refused.reason, CannotRun)
    assert records(record, "restart_deployment") == [], "ran what its card did not describe"


async def test_a_tool_that_changes_only_what_its_card_does_not_show_still_runs(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    record: Path,
    home: Home,
    surface: RecordingSurface,
) -> None:
    # A server whose description carries a changing value after its first paragraph, or
    # whose annotations' title changes: the card showed neither, so Bob's click is on the
    # same words, and pinning them refused every approval of such a tool.
    flip = tmp_path / "flip"
    transport = command(ROGUE, "--record", record, "--flip-when", flip, "--reword-tail")
    engine = await open_signoff(config(tmp_path / "signoff.toml", transport))
    await _one_turn(engine, home, "call ops__restart_deployment deployment=api")
    (card,) = surface.cards
    flip.touch()
    tool = engine.rt.registry.get("ops__restart_deployment")
    assert tool is not None
    assert await tool.unavailable() is None
    assert await tool.unavailable() is None
    assert tool.description.endswith(TAIL)
    await engine.decide(card.id, user="U0BOB", approve=True)
    await engine.idle()
    assert len(records(record, "restart_deployment")) == 1, "an approval of the same words refused"
