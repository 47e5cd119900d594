"""A quorum completed by a sweep is of the call as it is when the sweep decides.

Bob's and Carol's approvals of the request were on disk with no decision (a crash came
first); the sweep read the call, then waited for the lock while Dave's edit was written
under it (Dave told "your edit counts, 1 of 2"); then it counted the votes of the call it
had read, and approved the arguments Dave's edit had replaced. Now the call is read under
the lock: one an edit replaced meanwhile is no quorum of anything.
"""

from __future__ import annotations

from governance_support import approval_on_disk, park, request

from approvals import (
    ApprovalRequest,
    EditRecorded,
    NoGroups,
    Policy,
    PolicyRule,
    record_edit,
)
from approvals.quorum_completion import complete_quorum
from sessions import FixedClock, Home

RULE = PolicyRule(quorum=2, allow_edit=True)


async def test_a_sweep_never_completes_the_quorum_of_a_call_an_edit_replaced(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, RULE)
    approval_on_disk(home, capsule, clock, "U0BOB")
    approval_on_disk(home, capsule, clock, "U0CAROL")
    read_before = request(home, capsule, clock).current()  # the sweep's, before the lock

    edited = await record_edit(
        ApprovalRequest.open(home, capsule.id, clock=clock),
        user="U0DAVE",
        arguments={"service": "api", "replicas": 3},
        tool_version="v1",
        base_sha256=capsule.args_sha256,
        policy=Policy(default=RULE),
        groups=NoGroups(),
        clock=clock,
    )
    assert isinstance(edited, EditRecorded), edited

    done = await complete_quorum(
        request(home, capsule, clock), policy=Policy(default=RULE), groups=NoGroups(),
        call=read_before,
    )  # fmt: skip
    assert done is None, done
    assert request(home, capsule, clock).decision() is None
