"""A vote in one process and a stop's withdrawal in another at the same instant.

Carol's approval (a terminal's ``signoff approve``, 1 of 2) had checked that nothing was
decided and was about to write her vote when Bob's stop in Slack withdrew the request: her
vote then landed after the withdrawal, and she was told it counted on a request the card
showed withdrawn. The withdrawal did not take the lock votes are counted under. Now it
does: one lands before the other, and each is told what is true when it lands.

Carol's process stops itself as it links her vote into place (after it checked for a
decision, holding the lock), Bob's withdrawal runs (to its end, or for 2 s of waiting for
Carol's lock, which it holds for 5), then Carol's process goes on.
"""

from __future__ import annotations

from governance_support import approve, park, racing, request

from approvals import NoGroups, Policy, PolicyRule, VoteCounted, withdraw
from sessions import FixedClock, Home

RULE = PolicyRule(quorum=2, approver_users=("U0BOB", "U0CAROL", "U0DAVE"))


def test_a_vote_and_a_withdrawal_at_once_never_count_the_vote_on_a_withdrawn_request(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, RULE)

    async def carol_approves() -> object:
        policy = Policy(default=RULE)
        return await approve(home, capsule, "U0CAROL", clock, policy=policy, groups=NoGroups())

    async def bob_stops() -> object:
        return await withdraw(
            request(home, capsule, clock), user="U0BOB", reason="stopped", now=clock.now()
        )

    withdrawn_first, vote_counted = racing(
        carol_approves,
        pause_at=lambda name: name.startswith("U0CAROL"),
        counted=lambda result: isinstance(result, VoteCounted),
        second=bob_stops,
    )

    decided = request(home, capsule, clock).decision()
    assert decided is not None and decided.verdict == "denied", decided
    # Carol was told her vote counted only if it landed before the withdrawal.
    assert not (withdrawn_first and vote_counted), "a vote counted after a withdrawal"
