"""A process stopped while it holds a request's records lock holds up nobody else.

A terminal's ``signoff approve`` suspended inside its critical section (Ctrl-Z) kept the
lock on its request's records, and the lock was waited for without end: the timer sweep,
which goes request by request, waited on that request, so no reminder or expiry went out
for anyone until the terminal went on; a click on that request hung too. Now the sweep
waits a short while, leaves that request for its next pass and goes on to the others;
a click waits a little longer, then tells the person to try again.

Deterministic: a forked process takes the lock and stops itself (SIGSTOP) holding it.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from governance_support import approval_on_disk, approve, park, request
from helpers_proc import stopped_holding

from approvals import (
    Capsule,
    NoGroups,
    Policy,
    PolicyRule,
    QuorumCompleted,
    Refused,
    Reminded,
    sweep_timers,
)
from sessions import FixedClock, Home, utc_iso

RULE = PolicyRule(quorum=2, approver_users=("U0BOB", "U0CAROL", "U0DAVE"), remind_after_seconds=600)
POLICY = Policy(default=RULE)


def _crashed_before_deciding(home: Home, clock: FixedClock, capsule: Capsule) -> None:
    """Bob's and Carol's votes on disk, the decision a crash prevented."""
    for user in ("U0BOB", "U0CAROL"):
        approval_on_disk(home, capsule, clock, user)
    request(home, capsule, clock).arm_timer(utc_iso(clock.now()))


async def test_the_sweep_skips_a_request_whose_lock_a_stopped_process_holds(
    home: Home, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The click waits 0.5 s for the lock, not 5 (SIGNOFF_BUSY_WAIT_S): it gives up all the same.
    monkeypatch.setenv("SIGNOFF_BUSY_WAIT_S", "0.5")
    held = park(home, clock, RULE)
    other = park(home, clock, RULE)
    _crashed_before_deciding(home, clock, held)
    clock.advance(timedelta(minutes=11))  # both reminders are due

    with stopped_holding(request(home, held, clock).session_dir / "approvals"):
        steps = await asyncio.wait_for(
            sweep_timers(home, policy=POLICY, clock=clock, groups=NoGroups()), timeout=10
        )
        reminded = {s.request.id for s in steps if isinstance(s, Reminded)}
        assert other.id in reminded, steps
        assert request(home, held, clock).decision() is None

        clicked = await asyncio.wait_for(
            approve(home, held, "U0DAVE", clock, policy=POLICY), timeout=10
        )
        assert isinstance(clicked, Refused) and "try again" in clicked.reason, clicked

    # Once the terminal goes on (here: lets go), the next pass completes the quorum.
    clock.advance(timedelta(seconds=5))
    steps = await sweep_timers(home, policy=POLICY, clock=clock, groups=NoGroups())
    assert any(isinstance(s, QuorumCompleted) for s in steps), steps
    decided = request(home, held, clock).decision()
    assert decided is not None and decided.deciders == ("U0BOB", "U0CAROL")
