"""The two clocks draw their line at the same instant. A card's deadline counts its exact
instant as passed (``approvals.expired``: ``now >= expires_at``); an approval's window
(``valid_for``) did not, so a call could start at the very instant its thread is told it
"could not start before" then (``agent_core.staleness``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent_core.staleness import stale_due
from approvals import Decision
from sessions import utc_iso

UNTIL = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def _approved(valid_until: str) -> Decision:
    return Decision(
        approval_id="appr_0123456789abcdef",
        verdict="approved",
        deciders=("U0BOB",),
        at=utc_iso(UNTIL - timedelta(hours=1)),
        args_sha256="0" * 64,
        valid_until=valid_until,
    )


def test_a_window_is_closed_at_its_own_instant() -> None:
    decision = _approved(utc_iso(UNTIL))
    assert not stale_due(decision, UNTIL - timedelta(milliseconds=1))
    assert stale_due(decision, UNTIL)
    assert stale_due(decision, UNTIL + timedelta(milliseconds=1))


def test_an_approval_with_no_window_never_goes_stale() -> None:
    assert not stale_due(_approved(""), UNTIL + timedelta(days=3650))
