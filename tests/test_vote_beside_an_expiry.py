"""A vote in one process and the expiry sweep in another at the same instant.

Carol clicked Approve (1 of 2) a moment before the request's deadline; the sweep, a moment
after it, had found the request short of its quorum and was about to write "expired". The
sweep wrote that decision outside the lock votes are counted under, so Carol's vote could
land between its check and its write: she was told her approval counted on a request the
card then showed expired. Now the sweep expires under that lock: her vote lands before
the expiry (and counts) or finds it decided.

The sweep's process stops itself as it links the decision into place, Carol's approval
runs (to its end, or for 2 s of waiting for the sweep's lock), then the sweep goes on.
And the quorum's check and the expiry are one hold of that lock: the sweep checked, let
go and took it again to expire, and a vote could land between the two.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from governance_support import approve, park, racing, request

from approvals import AlreadyDecided, NoGroups, Policy, PolicyRule, sweep_expired
from sessions import FixedClock, Home, Index

RULE = PolicyRule(quorum=2, approver_users=("U0BOB", "U0CAROL"), expires_after_seconds=3600)


@pytest.mark.parametrize("paused", ["at the expiry", "once it lets go of the lock"])
def test_a_vote_and_an_expiry_at_once_never_count_the_vote_on_an_expired_request(
    home: Home, clock: FixedClock, paused: str
) -> None:
    capsule = park(home, clock, RULE)
    clock.advance(timedelta(minutes=59, seconds=59))  # Carol clicks just in time
    late = FixedClock(clock.now() + timedelta(seconds=2))
    told: list[object] = []

    async def sweep_after_the_deadline() -> object:
        index = await Index.open(home.index_path)
        try:
            await index.put_approvals([request(home, capsule, late).row()])
            return await sweep_expired(
                home, index, clock=late, policy=Policy(default=RULE), groups=NoGroups()
            )
        finally:
            await index.close()

    async def carol_approves() -> object:
        result = await approve(
            home, capsule, "U0CAROL", clock, policy=Policy(default=RULE), groups=NoGroups()
        )
        told.append(result)
        return result

    vote_ended_first, _ = racing(
        sweep_after_the_deadline,
        pause_at=lambda name: (
            "decision" in name if paused == "at the expiry" else name == "approvals"
        ),
        counted=lambda result: bool(result),
        second=carol_approves,
        after_unlock=paused != "at the expiry",
    )

    decided = request(home, capsule, clock).decision()
    assert decided is not None and decided.verdict == "expired", decided
    # The sweep stopped after it found the quorum short (at its expiry, holding the lock)
    # or after it let go of the lock: her vote is told it expired, never counted.
    assert len(told) == 1 and isinstance(told[0], AlreadyDecided), told
    assert paused != "at the expiry" or not vote_ended_first, "a vote ran past the sweep's lock"
    assert not request(home, capsule, clock).counted(request(home, capsule, clock).current())
