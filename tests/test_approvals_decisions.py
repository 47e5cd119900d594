"""Unit tests for deciding approvals: who may decide, first-wins, quorum, expiry, claims."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import multiprocessing
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from engine_support import THREAD

import approvals
from agent_core.audit import audit_records
from approvals import (
    SYSTEM,
    AlreadyClaimedError,
    AlreadyDecided,
    AlreadyVoted,
    ApprovalRequest,
    Capsule,
    Decided,
    GroupResolver,
    HashMismatchError,
    NoGroups,
    Policy,
    PolicyRule,
    Refused,
    StaticGroups,
    VoteCounted,
    build_capsule,
    decide,
    sweep_expired,
)
from sessions import (
    AlreadyExistsError,
    FixedClock,
    Home,
    Index,
    InvalidIdError,
    NotFoundError,
    SessionState,
    SessionStore,
    utc_iso,
)

TOOL = "restart_service"
REQUESTER = "U0ALICE"


def _park(
    home: Home,
    clock: FixedClock,
    rule: PolicyRule | None = None,
    *,
    arguments: dict[str, Any] | None = None,
) -> Capsule:
    """A session that asked for ``TOOL`` and ended awaiting approval, as the gate leaves it."""
    store = SessionStore(home, clock=clock)
    record = store.create(thread=THREAD, parent_id=None, cause="message", session_md="#\n")
    store.transition(record.id, expected=SessionState.CREATED, new=SessionState.RUNNING)
    capsule = build_capsule(
        session_id=record.id,
        thread=THREAD,
        call_id="call_1",
        tool=TOOL,
        tool_version="1",
        arguments=arguments or {"service": "api"},
        requester=REQUESTER,
        reason="it is stuck",
        policy=rule or PolicyRule(),
        now=clock.now(),
    )
    ApprovalRequest.create(home, capsule, clock=clock)
    store.transition(record.id, expected=SessionState.RUNNING, new=SessionState.AWAITING_APPROVAL)
    return capsule


async def _decide(
    home: Home,
    capsule: Capsule,
    user: str,
    clock: FixedClock,
    *,
    approve: bool = True,
    reason: str = "",
    policy: Policy | None = None,
    groups: GroupResolver | None = None,
) -> approvals.DecisionResult:
    return await decide(
        home,
        capsule.id,
        user=user,
        approve=approve,
        reason=reason,
        policy=policy or Policy(),
        groups=groups or NoGroups(),
        clock=clock,
    )


def _decision_on_disk(home: Home, capsule: Capsule) -> approvals.Decision | None:
    # Read without verifying the capsule: tests look at the decision even of tampered ones.
    return ApprovalRequest(home, capsule).decision()


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# who may decide -------------------------------------------------------------------------
async def test_anyone_but_the_requester_by_default(home: Home, clock: FixedClock) -> None:
    capsule = _park(home, clock)
    refused = await _decide(home, capsule, REQUESTER, clock)
    assert isinstance(refused, Refused)
    assert "someone else" in refused.reason
    assert _decision_on_disk(home, capsule) is None
    decided = await _decide(home, capsule, "U0BOB", clock)
    assert isinstance(decided, Decided)
    assert decided.decision.verdict == "approved"
    assert decided.decision.deciders == ("U0BOB",)
    assert decided.decision.args_sha256 == capsule.args_sha256
    assert decided.decision.at == utc_iso(clock.now())
    assert decided.capsule == capsule
    assert _decision_on_disk(home, capsule) == decided.decision


async def test_self_approval_when_the_policy_allows_it(home: Home, clock: FixedClock) -> None:
    rule = PolicyRule(allow_self_approval=True)
    capsule = _park(home, clock, rule)
    result = await _decide(home, capsule, REQUESTER, clock, policy=Policy(default=rule))
    assert isinstance(result, Decided)
    assert result.decision.deciders == (REQUESTER,)


async def test_self_approval_needs_the_current_policy_too(home: Home, clock: FixedClock) -> None:
    capsule = _park(home, clock, PolicyRule(allow_self_approval=True))
    result = await _decide(home, capsule, REQUESTER, clock, policy=Policy())
    assert isinstance(result, Refused)
    assert _decision_on_disk(home, capsule) is None


async def test_approver_list_by_user_id(home: Home, clock: FixedClock) -> None:
    rule = PolicyRule(approver_users=("U0BOB", "W0DAVE"))
    capsule = _park(home, clock, rule)
    policy = Policy(default=rule)
    refused = await _decide(home, capsule, "U0CAROL", clock, policy=policy)
    assert isinstance(refused, Refused)
    assert "not an approver" in refused.reason and "U0BOB" in refused.reason
    assert _decision_on_disk(home, capsule) is None
    decided = await _decide(home, capsule, "W0DAVE", clock, policy=policy)
    assert isinstance(decided, Decided)
    assert decided.decision.deciders == ("W0DAVE",)


async def test_the_requester_is_refused_even_when_listed(home: Home, clock: FixedClock) -> None:
    rule = PolicyRule(approver_users=(REQUESTER, "U0BOB"))
    capsule = _park(home, clock, rule)
    result = await _decide(home, capsule, REQUESTER, clock, policy=Policy(default=rule))
    assert isinstance(result, Refused)


async def test_approver_by_user_group(home: Home, clock: FixedClock) -> None:
    rule = PolicyRule(approver_groups=("S0OPS",))
    capsule = _park(home, clock, rule)
    policy = Policy(default=rule)
    groups = StaticGroups({"S0OPS": frozenset({"U0BOB"}), "S0OTHER": frozenset({"U0CAROL"})})
    refused = await _decide(home, capsule, "U0CAROL", clock, policy=policy, groups=groups)
    assert isinstance(refused, Refused)
    assert "S0OPS" in refused.reason
    decided = await _decide(home, capsule, "U0BOB", clock, policy=policy, groups=groups)
    assert isinstance(decided, Decided)
    assert decided.decision.deciders == ("U0BOB",)


async def test_no_groups_fails_closed(home: Home, clock: FixedClock) -> None:
    rule = PolicyRule(approver_groups=("S0OPS",))
    capsule = _park(home, clock, rule)
    for user in ("U0BOB", "U0CAROL"):
        result = await _decide(home, capsule, user, clock, policy=Policy(default=rule))
        assert isinstance(result, Refused)
    assert _decision_on_disk(home, capsule) is None
    assert not (home.session_dir(capsule.session_id) / "approvals" / f"{capsule.id}.votes").exists()


async def test_a_policy_tightened_after_the_request_applies(home: Home, clock: FixedClock) -> None:
    capsule = _park(home, clock, PolicyRule())  # asked when anyone could approve
    tightened = Policy(tools={TOOL: PolicyRule(approver_users=("U0BOB",))})
    refused = await _decide(home, capsule, "U0CAROL", clock, policy=tightened)
    assert isinstance(refused, Refused)
    assert _decision_on_disk(home, capsule) is None
    # Another tool's rule does not matter; this tool's does.
    loosened_elsewhere = Policy(
        default=PolicyRule(approver_users=("U0BOB",)), tools={"other": PolicyRule()}
    )
    again = await _decide(home, capsule, "U0CAROL", clock, policy=loosened_elsewhere)
    assert isinstance(again, Refused)
    decided = await _decide(home, capsule, "U0BOB", clock, policy=tightened)
    assert isinstance(decided, Decided)


async def test_a_quorum_raised_after_the_request_applies(home: Home, clock: FixedClock) -> None:
    capsule = _park(home, clock, PolicyRule(quorum=1))
    raised = Policy(tools={TOOL: PolicyRule(quorum=2)})
    first = await _decide(home, capsule, "U0BOB", clock, policy=raised)
    assert isinstance(first, VoteCounted)
    assert (first.approvals, first.quorum) == (1, 2)
    assert _decision_on_disk(home, capsule) is None
    second = await _decide(home, capsule, "U0CAROL", clock, policy=raised)
    assert isinstance(second, Decided)


async def test_a_refusal_by_the_snapshot_is_not_lifted_by_a_looser_policy(
    home: Home, clock: FixedClock
) -> None:
    capsule = _park(home, clock, PolicyRule(approver_users=("U0BOB",)))
    result = await _decide(home, capsule, "U0CAROL", clock, policy=Policy())
    assert isinstance(result, Refused)


# first decision wins --------------------------------------------------------------------
async def test_first_decision_wins_and_the_loser_learns_who_and_when(
    home: Home, clock: FixedClock
) -> None:
    capsule = _park(home, clock)
    first = await _decide(home, capsule, "U0BOB", clock)
    assert isinstance(first, Decided)
    decided_at = utc_iso(clock.now())
    clock.advance(timedelta(minutes=2))
    late = await _decide(home, capsule, "U0CAROL", clock, approve=False, reason="no")
    assert isinstance(late, AlreadyDecided)
    assert late.decision.verdict == "approved"
    assert late.decision.deciders == ("U0BOB",)
    assert late.decision.at == decided_at
    assert late.decision == first.decision
    # A double click by the winner is "already decided" too, and nothing changed on disk.
    again = await _decide(home, capsule, "U0BOB", clock)
    assert isinstance(again, AlreadyDecided)
    assert _decision_on_disk(home, capsule) == first.decision


async def test_already_decided_wins_over_a_refusal(home: Home, clock: FixedClock) -> None:
    capsule = _park(home, clock)
    await _decide(home, capsule, "U0BOB", clock)
    # Even the requester hears who decided, rather than a refusal.
    result = await _decide(home, capsule, REQUESTER, clock)
    assert isinstance(result, AlreadyDecided)


async def test_deny_records_the_reason(home: Home, clock: FixedClock) -> None:
    capsule = _park(home, clock)
    result = await _decide(home, capsule, "U0BOB", clock, approve=False, reason="change freeze")
    assert isinstance(result, Decided)
    assert result.decision.verdict == "denied"
    assert result.decision.reason == "change freeze"
    assert result.decision.deciders == ("U0BOB",)
    on_disk = json.loads(
        (
            home.session_dir(capsule.session_id) / "approvals" / f"{capsule.id}.decision.json"
        ).read_text()
    )
    assert on_disk["verdict"] == "denied"
    assert on_disk["reason"] == "change freeze"
    assert on_disk["schema_version"] == 2
    assert on_disk["args_sha256"] == capsule.args_sha256


async def test_decision_files_do_not_break_the_seal(home: Home, clock: FixedClock) -> None:
    from sessions import verify

    capsule = _park(home, clock, PolicyRule(quorum=2))
    await _decide(home, capsule, "U0BOB", clock)
    await _decide(home, capsule, "U0CAROL", clock)
    assert verify(home.session_dir(capsule.session_id)).ok


# quorum ---------------------------------------------------------------------------------
async def test_quorum_of_two(home: Home, clock: FixedClock) -> None:
    rule = PolicyRule(quorum=2)
    capsule = _park(home, clock, rule)
    policy = Policy(default=rule)
    first = await _decide(home, capsule, "U0BOB", clock, policy=policy)
    assert isinstance(first, VoteCounted)
    assert (first.approvals, first.quorum) == (1, 2)
    clock.advance(timedelta(seconds=30))
    again = await _decide(home, capsule, "U0BOB", clock, policy=policy)
    assert isinstance(again, AlreadyVoted)
    assert _decision_on_disk(home, capsule) is None
    refused = await _decide(home, capsule, REQUESTER, clock, policy=policy)
    assert isinstance(refused, Refused)
    clock.advance(timedelta(seconds=30))
    second = await _decide(home, capsule, "U0AARON", clock, policy=policy)
    assert isinstance(second, Decided)
    assert second.decision.verdict == "approved"
    # Both people who approved, in the order they voted.
    assert second.decision.deciders == ("U0BOB", "U0AARON")
    assert _decision_on_disk(home, capsule) == second.decision
    votes = home.session_dir(capsule.session_id) / "approvals" / f"{capsule.id}.votes"
    assert sorted(os.listdir(votes)) == ["U0AARON.json", "U0BOB.json"]


async def test_a_single_deny_ends_a_quorum_request(home: Home, clock: FixedClock) -> None:
    rule = PolicyRule(quorum=3)
    capsule = _park(home, clock, rule)
    policy = Policy(default=rule)
    assert isinstance(await _decide(home, capsule, "U0BOB", clock, policy=policy), VoteCounted)
    denied = await _decide(home, capsule, "U0CAROL", clock, approve=False, policy=policy)
    assert isinstance(denied, Decided)
    assert denied.decision.verdict == "denied"
    assert denied.decision.deciders == ("U0CAROL",)


# expiry ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("on_expiry", "verdict"), [("expire", "expired"), ("deny", "denied")])
async def test_a_decision_after_expiry_finds_it_expired(
    home: Home, clock: FixedClock, on_expiry: str, verdict: str
) -> None:
    rule = PolicyRule(expires_after_seconds=3600, on_expiry=on_expiry)
    capsule = _park(home, clock, rule)
    clock.advance(timedelta(hours=1))  # exactly at the expiry instant
    result = await _decide(home, capsule, "U0BOB", clock, policy=Policy(default=rule))
    assert isinstance(result, AlreadyDecided)
    assert result.decision.verdict == verdict
    assert result.decision.deciders == (SYSTEM,)
    assert SYSTEM == "signoff"
    assert result.decision.at == capsule.expires_at
    assert capsule.expires_at in result.decision.reason
    assert _decision_on_disk(home, capsule) == result.decision


async def test_a_decision_just_before_expiry_counts(home: Home, clock: FixedClock) -> None:
    capsule = _park(home, clock, PolicyRule(expires_after_seconds=3600))
    clock.advance(timedelta(minutes=59, seconds=59, milliseconds=999))
    result = await _decide(home, capsule, "U0BOB", clock)
    assert isinstance(result, Decided)
    assert result.decision.verdict == "approved"


async def test_expiry_is_recorded_even_for_an_unauthorized_clicker(
    home: Home, clock: FixedClock
) -> None:
    rule = PolicyRule(approver_users=("U0BOB",))
    capsule = _park(home, clock, rule)
    clock.advance(timedelta(days=2))
    result = await _decide(home, capsule, "U0MALLORY", clock, policy=Policy(default=rule))
    assert isinstance(result, AlreadyDecided)
    assert result.decision.verdict == "expired"


# malformed input ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "user", ["u0alice", "U0ALICE/../../x", "", "U0ALİCE", "../U0BOB", "U0BOB\x00", "<@U0BOB>"]
)
async def test_decide_rejects_a_malformed_user_before_touching_disk(
    home: Home, clock: FixedClock, user: str
) -> None:
    capsule = _park(home, clock)
    before = _tree(home.root)
    with pytest.raises(InvalidIdError):
        await _decide(home, capsule, user, clock)
    # A well-formed but unknown approval id proves the check comes before any look-up.
    with pytest.raises(InvalidIdError):
        await decide(
            home,
            "appr_ffffffffffffffff",
            user=user,
            approve=True,
            policy=Policy(),
            groups=NoGroups(),
            clock=clock,
        )
    assert _tree(home.root) == before


@pytest.mark.parametrize("approval_id", ["../x", "appr_/../../etc", "sess_0123456789ab", ""])
async def test_decide_rejects_a_malformed_approval_id(
    home: Home, clock: FixedClock, approval_id: str
) -> None:
    with pytest.raises(InvalidIdError):
        await decide(
            home,
            approval_id,
            user="U0BOB",
            approve=True,
            policy=Policy(),
            groups=NoGroups(),
            clock=clock,
        )


async def test_unknown_approval_id(home: Home, clock: FixedClock) -> None:
    _park(home, clock)
    with pytest.raises(NotFoundError):
        await decide(
            home,
            "appr_ffffffffffffffff",
            user="U0BOB",
            approve=True,
            policy=Policy(),
            groups=NoGroups(),
            clock=clock,
        )


async def test_a_tampered_capsule_cannot_be_decided(home: Home, clock: FixedClock) -> None:
    capsule = _park(home, clock)
    path = home.capsule_path(capsule.session_id, capsule.id)
    data = json.loads(path.read_text())
    data["arguments"] = {"service": "database"}
    path.write_text(json.dumps(data))
    with pytest.raises(HashMismatchError):
        ApprovalRequest.open(home, capsule.id)
    with pytest.raises(HashMismatchError):
        await _decide(home, capsule, "U0BOB", clock)
    assert _decision_on_disk(home, capsule) is None


def test_open_follows_the_pointer(home: Home, clock: FixedClock) -> None:
    capsule = _park(home, clock)
    request = ApprovalRequest.open(home, capsule.id)
    assert request.session_dir == home.session_dir(capsule.session_id)
    assert request.capsule == capsule
    pointer = json.loads(home.pointer_path(capsule.id).read_text())
    assert pointer == {"schema_version": 1, "session": capsule.session_id}
    # The pointer is create-only: an approval id cannot be redirected to another session.
    moved = capsule.model_copy(update={"session_id": "sess_0123456789ab"})
    with pytest.raises(AlreadyExistsError):
        ApprovalRequest.create(home, moved)


# concurrency across processes -----------------------------------------------------------
def test_concurrent_decisions_from_processes_have_one_winner(home: Home, clock: FixedClock) -> None:
    capsule = _park(home, clock)
    contenders = [("U0P1", True), ("U0P2", False), ("U0P3", True), ("U0P4", False)]
    contenders += [("U0P5", True), ("U0P6", True)]
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(len(contenders))
    results = ctx.Queue()

    def contender(user: str, approve: bool) -> None:
        try:
            barrier.wait(timeout=10)
            result = asyncio.run(
                decide(
                    home,
                    capsule.id,
                    user=user,
                    approve=approve,
                    reason=f"by {user}",
                    policy=Policy(),
                    groups=NoGroups(),
                    clock=clock,
                )
            )
            decision = getattr(result, "decision", None)
            results.put(
                (
                    user,
                    type(result).__name__,
                    decision.verdict if decision else None,
                    decision.deciders if decision else None,
                )
            )
        except Exception as exc:  # reported to the parent
            results.put((user, "error", repr(exc), None))

    procs = [ctx.Process(target=contender, args=c) for c in contenders]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(timeout=10)
        assert p.exitcode == 0
    kinds = sorted(kind for _, kind, _, _ in outcomes)
    assert kinds == ["AlreadyDecided"] * 5 + ["Decided"], outcomes
    winner = next(o for o in outcomes if o[1] == "Decided")
    on_disk = _decision_on_disk(home, capsule)
    assert on_disk is not None
    assert on_disk.deciders == (winner[0],)
    assert on_disk.verdict == winner[2]
    assert on_disk.reason == f"by {winner[0]}"  # an approval's reason is kept too
    # Every loser was told the same winner.
    assert {(v, d) for _, _, v, d in outcomes} == {(on_disk.verdict, on_disk.deciders)}


# claims ---------------------------------------------------------------------------------
async def test_claim_twice_raises(home: Home, clock: FixedClock) -> None:
    capsule = _park(home, clock)
    await _decide(home, capsule, "U0BOB", clock)
    request = ApprovalRequest.open(home, capsule.id)
    first = request.claim(by_session="sess_0123456789ab", at=utc_iso(clock.now()))
    assert first.session_id == "sess_0123456789ab"
    with pytest.raises(AlreadyClaimedError, match=capsule.id):
        request.claim(by_session="sess_ba9876543210", at=utc_iso(clock.now()))
    assert ApprovalRequest.open(home, capsule.id).claimed() == first


# expiry sweep ---------------------------------------------------------------------------
async def _index_with(home: Home, capsules: list[Capsule]) -> Index:
    index = await Index.open(home.index_path)
    await index.put_approvals([ApprovalRequest(home, c).row() for c in capsules])
    return index


async def test_sweep_expires_exactly_the_due_requests(home: Home, clock: FixedClock) -> None:
    soon = _park(home, clock, PolicyRule(expires_after_seconds=3600))
    deny = _park(home, clock, PolicyRule(expires_after_seconds=3600, on_expiry="deny"))
    later = _park(home, clock, PolicyRule(expires_after_seconds=48 * 3600))
    index = await _index_with(home, [soon, deny, later])
    try:
        clock.advance(timedelta(minutes=59))
        assert (
            await sweep_expired(home, index, clock=clock, policy=Policy(), groups=NoGroups()) == []
        )
        assert all(_decision_on_disk(home, c) is None for c in (soon, deny, later))

        clock.advance(timedelta(minutes=2))
        swept = await sweep_expired(home, index, clock=clock, policy=Policy(), groups=NoGroups())
        assert all(isinstance(r, Decided) for r in swept)
        by_id = {r.capsule.id: r.decision for r in swept}
        assert set(by_id) == {soon.id, deny.id}
        assert by_id[soon.id].verdict == "expired"
        assert by_id[deny.id].verdict == "denied"
        assert by_id[soon.id].deciders == (SYSTEM,)
        assert by_id[soon.id].at == utc_iso(clock.now())
        assert _decision_on_disk(home, soon) == by_id[soon.id]
        assert _decision_on_disk(home, later) is None

        # The index still says "pending" (the caller mirrors later): a second sweep reports
        # what is on disk instead of deciding again.
        clock.advance(timedelta(minutes=1))
        again = await sweep_expired(home, index, clock=clock, policy=Policy(), groups=NoGroups())
        assert all(isinstance(r, AlreadyDecided) for r in again)
        assert {r.capsule.id: r.decision for r in again} == by_id
    finally:
        await index.close()


async def test_sweep_reports_a_human_decision_the_index_missed(
    home: Home, clock: FixedClock
) -> None:
    capsule = _park(home, clock, PolicyRule(expires_after_seconds=3600))
    index = await _index_with(home, [capsule])
    try:
        clock.advance(timedelta(minutes=30))
        decided = await _decide(home, capsule, "U0BOB", clock)
        assert isinstance(decided, Decided)
        clock.advance(timedelta(hours=1))
        row = await index.approval(capsule.id)
        assert row is not None and row.status == "pending"
        swept = await sweep_expired(home, index, clock=clock, policy=Policy(), groups=NoGroups())
        assert len(swept) == 1
        assert isinstance(swept[0], AlreadyDecided)
        assert swept[0].decision == decided.decision
        assert swept[0].decision.verdict == "approved"
        assert _decision_on_disk(home, capsule) == decided.decision
    finally:
        await index.close()


async def test_sweep_ignores_rows_not_pending_and_rows_without_files(
    home: Home, clock: FixedClock
) -> None:
    capsule = _park(home, clock, PolicyRule(expires_after_seconds=60))
    index = await _index_with(home, [capsule])
    try:
        ghost = dataclasses.replace(
            ApprovalRequest(home, capsule).row(), id="appr_ffffffffffffffff"
        )
        decided = dataclasses.replace(
            ApprovalRequest(home, capsule).row(), id="appr_eeeeeeeeeeeeeeee", status="approved"
        )
        await index.put_approvals([ghost, decided])
        clock.advance(timedelta(hours=1))
        swept = await sweep_expired(home, index, clock=clock, policy=Policy(), groups=NoGroups())
        assert [r.capsule.id for r in swept] == [capsule.id]
        assert isinstance(swept[0], Decided)
    finally:
        await index.close()


class _Flaky:
    """Slack answers for the approver group, then cannot (an outage)."""

    def __init__(self, members: frozenset[str]) -> None:
        self.members_now: frozenset[str] | None = members

    async def members(self, group_id: str) -> frozenset[str]:
        if self.members_now is None:
            raise approvals.MembershipUnknown(group_id)
        return self.members_now

    async def can_see(self, channel: str, user: str) -> bool:
        return True  # the cards are in a public channel


async def test_a_quorum_counts_only_approvers_the_rules_allow_when_it_completes(
    home: Home, clock: FixedClock
) -> None:
    rule = PolicyRule(quorum=2, approver_groups=("S0OPS",))
    capsule = _park(home, clock, rule)
    policy = Policy(default=rule)
    groups = _Flaky(frozenset({"U0BOB", "U0CAROL", "U0DAVE"}))
    first = await _decide(home, capsule, "U0BOB", clock, policy=policy, groups=groups)
    assert isinstance(first, VoteCounted)
    # Slack cannot say whether Bob is still in the group: Dave's click records nothing.
    groups.members_now = None
    unchecked = await _decide(home, capsule, "U0DAVE", clock, policy=policy, groups=groups)
    assert isinstance(unchecked, Refused) and "could not check" in unchecked.reason
    # Bob left the group: Carol's approval is counted, his is not, and none completes.
    groups.members_now = frozenset({"U0CAROL", "U0DAVE"})
    second = await _decide(home, capsule, "U0CAROL", clock, policy=policy, groups=groups)
    assert isinstance(second, VoteCounted)
    assert (second.approvals, second.voters) == (1, ("U0CAROL",))
    assert ApprovalRequest.open(home, capsule.id).approvals() == ("U0CAROL",)
    third = await _decide(home, capsule, "U0DAVE", clock, policy=policy, groups=groups)
    assert isinstance(third, Decided)
    assert third.decision.deciders == ("U0CAROL", "U0DAVE")
    [record] = audit_records(home, now=clock.now())
    assert [(v.user, v.discounted) for v in record.votes] == [
        ("U0BOB", ()),
        ("U0CAROL", ("U0BOB",)),
        ("U0DAVE", ()),
    ]


async def test_a_vote_that_completes_nothing_checks_no_one_again(
    home: Home, clock: FixedClock
) -> None:
    """Only the approval that would complete a quorum asks Slack about the earlier ones."""
    rule = PolicyRule(quorum=3, approver_groups=("S0OPS",))
    capsule = _park(home, clock, rule)
    policy = Policy(default=rule)
    groups = _Flaky(frozenset({"U0BOB", "U0CAROL", "U0DAVE"}))
    await _decide(home, capsule, "U0BOB", clock, policy=policy, groups=groups)
    groups.members_now = frozenset({"U0CAROL", "U0DAVE"})
    second = await _decide(home, capsule, "U0CAROL", clock, policy=policy, groups=groups)
    assert isinstance(second, VoteCounted) and second.voters == ("U0BOB", "U0CAROL")


async def test_a_vote_that_discounts_no_one_is_written_as_older_versions_read_it(
    home: Home, clock: FixedClock
) -> None:
    """A version from 2026-12-04 (a rollback the docs allow) knows votes up to version 2 and
    refuses a field it does not know; then it reads none of that request's votes."""
    rule = PolicyRule(quorum=2, approver_groups=("S0OPS",))
    capsule = _park(home, clock, rule)
    policy = Policy(default=rule)
    groups = _Flaky(frozenset({"U0BOB", "U0CAROL"}))
    await _decide(home, capsule, "U0BOB", clock, policy=policy, groups=groups)
    groups.members_now = frozenset({"U0CAROL"})
    await _decide(home, capsule, "U0CAROL", clock, policy=policy, groups=groups)
    written = {
        path.stem: json.loads(path.read_bytes())
        for path in home.root.glob(f"sessions/**/approvals/{capsule.id}.votes/*.json")
    }
    version_2 = {"schema_version", "approval_id", "user", "approve", "at", "reason", "args_sha256"}
    assert set(written["U0BOB"]) == version_2 and written["U0BOB"]["schema_version"] == 2
    # One that discounts someone is version 3: an older version that read it would count them.
    assert written["U0CAROL"]["schema_version"] == 3
    assert written["U0CAROL"]["discounted"] == ["U0BOB"]
