"""An edit in one process and a deny in another at the same instant.

Carol's edit (the bot) had checked that nothing was decided and was about to write her
edit when Bob's deny (a terminal's ``signoff deny``) was written: her edit then landed
after the deny, and she was told it counted (1 of 2) on a request already denied, while
the card said denied. Neither took the lock under which votes are counted. Now an edit
is checked and written, and a deny checked and written, under that lock across
processes: one lands before the other, and each is told what is true when it lands.

Deterministic (``racing``): Carol's process stops itself as it links her edit into place
(after it checked for a decision, holding the lock), Bob's deny runs (to its end, or for
2 s of waiting for Carol's lock), then Carol's process goes on.
"""

from __future__ import annotations

from governance_support import approve, park, racing, request

from approvals import EditRecorded, NoGroups, Policy, PolicyRule, record_edit
from sessions import FixedClock, Home

RULE = PolicyRule(quorum=2, approver_users=("U0BOB", "U0CAROL", "U0DAVE"), allow_edit=True)


def test_an_edit_and_a_deny_at_once_never_count_the_edit_on_a_denied_request(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, RULE)

    async def carol_edits() -> object:
        return await record_edit(
            request(home, capsule, clock),
            user="U0CAROL",
            arguments={"service": "api", "replicas": 8},
            tool_version="v1",
            base_sha256=capsule.args_sha256,
            policy=Policy(default=RULE),
            groups=NoGroups(),
            clock=clock,
        )

    async def bob_denies() -> object:
        return await approve(
            home, capsule, "U0BOB", clock, approve=False, policy=Policy(default=RULE)
        )

    denied_first, edit_counted = racing(
        carol_edits,
        pause_at=lambda name: name.endswith(".edit-1.json"),
        counted=lambda result: isinstance(result, EditRecorded),
        second=bob_denies,
    )

    decided = request(home, capsule, clock).decision()
    assert decided is not None and decided.verdict == "denied", decided
    # Carol was told her edit counted only if it landed before the deny.
    assert not (denied_first and edit_counted), "an edit counted after a deny"
