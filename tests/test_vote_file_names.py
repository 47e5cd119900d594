"""A quorum's vote is one file per approval, named by who cast it (``Vote.key``). A file
whose name says one person (or one request) and whose content another — a home edited by
hand, or restored wrong — was counted for whom its content names, and ``signoff verify``
said "0 with problems". Now such a file counts for nobody, and verify names it (exit 1)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from governance_support import approval_on_disk, approve, park, request
from test_cli_errors import env_for, signoff

from agent_core.demo_fleet import demo_registry
from agent_core.engine import Engine
from agent_core.offline import OfflineModel
from approvals import Capsule, Decided, NoGroups, Policy, PolicyRule, sweep_timers
from approvals.records import Vote
from sessions import FixedClock, Home, utc_iso

RULE = PolicyRule(quorum=2, approver_users=("U0BOB", "U0CAROL", "U0DAVE"))
POLICY = Policy(default=RULE)


def _vote_as(capsule: Capsule, clock: FixedClock, user: str, *, approval_id: str = "") -> bytes:
    vote = Vote(
        approval_id=approval_id or capsule.id,
        user=user,
        approve=True,
        at=utc_iso(clock.now()),
        args_sha256=capsule.args_sha256,
    )
    return vote.model_dump_json().encode()


def _votes_dir(home: Home, capsule: Capsule, clock: FixedClock) -> Path:
    return request(home, capsule, clock).session_dir / "approvals" / f"{capsule.id}.votes"


async def test_a_vote_file_holding_another_persons_vote_counts_for_nobody(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, RULE)
    approval_on_disk(home, capsule, clock, "U0BOB")
    # Named Carol's, it holds Dave's approval: Dave never clicked.
    (_votes_dir(home, capsule, clock) / "U0CAROL.json").write_bytes(
        _vote_as(capsule, clock, "U0DAVE")
    )
    assert request(home, capsule, clock).approvals() == ("U0BOB",)
    # Nor does a sweep complete a quorum with it (as it did: Bob and "Dave").
    request(home, capsule, clock).arm_timer(utc_iso(clock.now()))
    clock.advance(timedelta(minutes=1))
    await sweep_timers(home, policy=POLICY, clock=clock, groups=NoGroups())
    assert request(home, capsule, clock).decision() is None
    # Dave's own click is his first approval, and with Bob's a quorum.
    await approve(home, capsule, "U0DAVE", clock, policy=POLICY)
    decided = request(home, capsule, clock).decision()
    assert decided is not None and decided.deciders == ("U0BOB", "U0DAVE")


def test_verify_names_a_vote_file_whose_content_is_not_its_name(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, RULE)
    other = park(home, clock, RULE)
    approval_on_disk(home, capsule, clock, "U0BOB")
    votes = _votes_dir(home, capsule, clock)
    env = env_for(home.root)
    assert signoff("verify", env=env).returncode == 0  # as a vote process writes them: ok

    (votes / "U0CAROL.json").write_bytes(_vote_as(capsule, clock, "U0DAVE"))
    # Another request's vote, under its own person's name, copied into this one's votes.
    (votes / "U0DAVE.json").write_bytes(_vote_as(capsule, clock, "U0DAVE", approval_id=other.id))
    done = signoff("verify", env=env)
    assert done.returncode == 1, (done.stdout, done.stderr)
    [line] = [x for x in done.stdout.splitlines() if "TAMPERED" in x]
    assert line.startswith(f"{capsule.session_id}: TAMPERED: ")
    assert f"{capsule.id}.votes/U0CAROL.json holds a vote by U0DAVE" in line
    assert f"{capsule.id}.votes/U0DAVE.json holds a vote for {other.id}" in line
    assert done.stdout.strip().endswith("1 with problems")


async def test_the_person_a_misnamed_file_is_named_after_may_still_approve(
    home: Home, clock: FixedClock
) -> None:
    """The file named Carol's holds Dave's approval and counts for nobody: Carol's own
    click must count. It was refused as "already approved" (her first approval's file name
    was taken), so nothing of hers could ever count and the quorum waited for a third."""
    capsule = park(home, clock, RULE)
    approval_on_disk(home, capsule, clock, "U0BOB")
    (_votes_dir(home, capsule, clock) / "U0CAROL.json").write_bytes(
        _vote_as(capsule, clock, "U0DAVE")
    )
    carol = await approve(home, capsule, "U0CAROL", clock, policy=POLICY)
    assert isinstance(carol, Decided), carol
    assert carol.decision.deciders == ("U0BOB", "U0CAROL")


def _own_vote(capsule: Capsule, user: str, at: str, reason: str) -> Vote:
    return Vote(
        approval_id=capsule.id,
        user=user,
        approve=True,
        at=at,
        reason=reason,
        args_sha256=capsule.args_sha256,
    )


async def test_a_misnamed_copy_of_a_voters_own_vote_sets_neither_time_nor_reason(
    home: Home, clock: FixedClock
) -> None:
    """A copy of Bob's own vote, under another file name and with a later time and another
    reason, counted for nobody, yet a swept quorum took its time as the approval's (its
    validity window started an hour late) and its reason as the one shown for Bob."""
    capsule = park(home, clock, RULE)
    bob = _own_vote(capsule, "U0BOB", utc_iso(clock.now()), "safe at this hour")
    assert request(home, capsule, clock).write_vote(bob)
    clock.advance(timedelta(minutes=1))
    dave = _own_vote(capsule, "U0DAVE", utc_iso(clock.now()), "traffic is low")
    assert request(home, capsule, clock).write_vote(dave)
    later = utc_iso(clock.now() + timedelta(hours=1))
    copy = bob.model_copy(update={"at": later, "reason": "whatever you like"})
    (_votes_dir(home, capsule, clock) / "U0BOB-2.json").write_bytes(copy.model_dump_json().encode())

    request(home, capsule, clock).arm_timer(utc_iso(clock.now()))  # as Dave's click did
    clock.advance(timedelta(minutes=1))
    await sweep_timers(home, policy=POLICY, clock=clock, groups=NoGroups())
    decided = request(home, capsule, clock).decision()
    assert decided is not None and decided.deciders == ("U0BOB", "U0DAVE")
    assert (decided.at, decided.reason) == (dave.at, "traffic is low")
    assert request(home, capsule, clock).reasons(decided) == [
        ("U0BOB", "safe at this hour"),
        ("U0DAVE", "traffic is low"),
    ]


async def test_a_misnamed_copy_does_not_change_the_reason_shown_for_a_click(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, RULE)
    await approve(home, capsule, "U0BOB", clock, policy=POLICY, reason="safe at this hour")
    [bob] = request(home, capsule, clock).votes()
    copy = bob.model_copy(update={"at": utc_iso(clock.now() + timedelta(hours=1)), "reason": "x"})
    (_votes_dir(home, capsule, clock) / "U0CAROL.json").write_bytes(copy.model_dump_json().encode())
    clock.advance(timedelta(minutes=1))
    dave = await approve(home, capsule, "U0DAVE", clock, policy=POLICY)
    assert isinstance(dave, Decided), dave
    assert request(home, capsule, clock).reasons(dave.decision) == [("U0BOB", "safe at this hour")]


async def test_a_misnamed_vote_file_concerns_nobody(home: Home, clock: FixedClock) -> None:
    """Whose Home a change refreshes agrees with counting: a vote file named after one
    person and holding another's approval, or another request's, counts for nobody, so
    it concerns nobody either. The person its content named (who never clicked) was told
    of the request as if they had voted on it, their Home refreshed at every change."""
    capsule = park(home, clock, RULE)
    other = park(home, clock, RULE)
    approval_on_disk(home, capsule, clock, "U0BOB")
    votes = _votes_dir(home, capsule, clock)
    (votes / "U0FRANK.json").write_bytes(_vote_as(capsule, clock, "U0ERIN"))
    (votes / "U0GRACE.json").write_bytes(_vote_as(capsule, clock, "U0GRACE", approval_id=other.id))
    engine = await Engine.open(
        home=home, surface=None, clock=clock, model=OfflineModel(), registry=demo_registry(),
        policy=POLICY,
    )  # fmt: skip
    try:
        concerned = await engine.concerned(capsule.id)
    finally:
        await engine.close()
    assert not concerned.anyone
    # The requester, Bob who approved, and the approvers the rule names: no one else.
    assert concerned.people == {capsule.requester, "U0BOB", "U0CAROL", "U0DAVE"}
