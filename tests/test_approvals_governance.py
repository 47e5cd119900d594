"""Governance in the approvals package: policy keys, Edit & approve, hashes that votes and
decisions are bound to, reasons, and the second clock's deadline."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from governance_support import ARGS, TOOL, approve, park, request

from agent_core.approved_call import approved_arguments
from approvals import (
    AlreadyVoted,
    ApprovalRequest,
    Decided,
    EditRecorded,
    HashMismatchError,
    NoGroups,
    Policy,
    PolicyError,
    PolicyRule,
    Refused,
    Unchecked,
    VoteCounted,
    args_sha256,
    changes,
    expire_due,
    load_policy,
    record_edit,
)
from approvals.edits import EditResult
from approvals.forms import Form, peek_form, record_form, take_form
from approvals.records import Edit
from sessions import FixedClock, Home, utc_iso

EDITED = {"service": "api", "replicas": 8}


async def _edit(
    home: Home,
    capsule_id: str,
    user: str,
    clock: FixedClock,
    *,
    arguments: dict[str, object] | None = None,
    base: str,
    reason: str = "",
    policy: Policy | None = None,
) -> EditResult:
    return await record_edit(
        ApprovalRequest.open(home, capsule_id, clock=clock),
        user=user,
        arguments=dict(arguments or EDITED),
        tool_version="v1",
        base_sha256=base,
        reason=reason,
        policy=policy or Policy(),
        groups=NoGroups(),
        clock=clock,
    )


# the policy keys ------------------------------------------------------------------------
def test_governance_keys_parse_and_tool_tables_override_them(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        "[default]\n"
        'remind_after = "2h"\nmax_reminders = 2\n'
        'escalate_after = "8h"\nescalate_to = ["S0ONCALL", "U0DAVE"]\n'
        'valid_for = "30m"\nrequire_reason = true\n'
        "[tools.scale_service]\n"
        "allow_edit = false\nmax_reminders = 5\n"
    )
    policy = load_policy(path)
    rule = policy.default
    assert rule.remind_after_seconds == 7200 and rule.max_reminders == 2
    assert rule.escalate_after_seconds == 8 * 3600
    assert rule.escalate_groups == ("S0ONCALL",) and rule.escalate_users == ("U0DAVE",)
    assert rule.valid_for_seconds == 1800 and rule.require_reason and rule.allow_edit
    scale = policy.rule_for("scale_service")
    assert not scale.allow_edit and scale.max_reminders == 5
    assert scale.valid_for_seconds == 1800  # everything else from the default
    plain = load_policy(None).default
    assert plain.remind_after_seconds is None and plain.valid_for_seconds is None
    assert plain.max_reminders == 3 and plain.allow_edit and not plain.require_reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[default]\nescalate_after = "8h"\n', "default: escalate_after needs escalate_to"),
        ('[default]\nescalate_to = ["S0ONCALL"]\n', "default: escalate_to needs escalate_after"),
        (
            '[tools.x]\nescalate_after = "1h"\n',
            "tools.x: escalate_after needs escalate_to",
        ),
        ('[default]\nescalate_to = []\nescalate_after = "1h"\n', "at least one"),
        ('[default]\nescalate_to = ["oncall"]\nescalate_after = "1h"\n', "'oncall' is not"),
        ('[default]\nvalid_for = "soon"\n', "valid_for"),
        ('[default]\nremind_after = "0h"\n', "remind_after"),
        ("[default]\nmax_reminders = -1\n", "max_reminders"),
        ('[default]\nrequire_reason = "yes"\n', "require_reason"),
        ("[default]\nremind_every = 1\n", "remind_every"),
    ],
)
def test_bad_governance_keys_stop_start_up_naming_the_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert expected in str(caught.value)
    assert str(path) in str(caught.value)


# edit & approve -------------------------------------------------------------------------
async def test_an_edit_by_an_approver_is_their_approval_of_the_edited_call(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock)
    result = await _edit(home, capsule.id, "U0BOB", clock, base=capsule.args_sha256, reason="8")
    assert isinstance(result, Decided)
    decision = result.decision
    edited_hash = args_sha256(TOOL, EDITED)
    assert decision.args_sha256 == edited_hash
    assert decision.original_sha256 == capsule.args_sha256 and decision.edit == 1
    assert decision.deciders == ("U0BOB",)
    req = request(home, capsule, clock)
    (edit,) = req.edits()
    assert edit.user == "U0BOB" and edit.changed == ("replicas",) and edit.reason == "8"
    assert edit.base_sha256 == capsule.args_sha256
    call = req.current()
    assert call.arguments == EDITED and call.args_sha256 == edited_hash and call.edit == 1
    # The capsule itself is never rewritten.
    assert req.capsule.arguments == ARGS
    assert [c.describe() for c in changes(ARGS, EDITED)] == ["replicas: 12 → 8"]
    assert req.reasons(decision) == [("U0BOB", "8")]


async def test_the_requester_may_not_edit_and_nothing_is_written(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock)
    result = await _edit(home, capsule.id, "U0ALICE", clock, base=capsule.args_sha256)
    assert isinstance(result, Refused) and "someone else must decide" in result.reason
    req = request(home, capsule, clock)
    assert req.edits() == [] and req.decision() is None


async def test_an_edit_resets_the_quorum_and_only_approvals_of_the_final_hash_count(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, PolicyRule(quorum=2))
    first = await approve(home, capsule, "U0BOB", clock)
    assert isinstance(first, VoteCounted) and first.voters == ("U0BOB",)
    edited = await _edit(home, capsule.id, "U0CAROL", clock, base=capsule.args_sha256)
    assert isinstance(edited, EditRecorded)
    assert edited.voters == ("U0CAROL",) and edited.approvals == 1 and edited.quorum == 2
    # Bob's card from before the edit: his approval of the old arguments cannot count.
    stale = await approve(home, capsule, "U0BOB", clock)
    assert isinstance(stale, Refused) and "edited after you saw them" in stale.reason
    # Carol already approved the edited call by editing it.
    again = await approve(home, capsule, "U0CAROL", clock, seen=edited.edit.args_sha256)
    assert isinstance(again, AlreadyVoted)
    final = await approve(home, capsule, "U0BOB", clock, seen=edited.edit.args_sha256[:12])
    assert isinstance(final, Decided)
    assert final.decision.deciders == ("U0CAROL", "U0BOB")
    assert final.decision.args_sha256 == args_sha256(TOOL, EDITED)
    req = request(home, capsule, clock)
    assert [v.user for v in req.votes(0)] == ["U0BOB"]  # kept, but for the old hash
    assert [v.args_sha256 for v in req.votes(1)] == [args_sha256(TOOL, EDITED)]


async def test_an_edit_of_arguments_that_changed_meanwhile_is_refused(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, PolicyRule(quorum=2))
    first = await _edit(home, capsule.id, "U0BOB", clock, base=capsule.args_sha256)
    assert isinstance(first, EditRecorded)
    # Carol opened her form before Bob's edit landed: it shows the original arguments.
    late = await _edit(
        home,
        capsule.id,
        "U0CAROL",
        clock,
        arguments={"service": "api", "replicas": 4},
        base=capsule.args_sha256,
    )
    assert isinstance(late, Refused) and "changed the arguments" in late.reason
    assert len(request(home, capsule, clock).edits()) == 1


async def test_an_edit_that_changes_nothing_is_a_plain_approval(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock)
    result = await _edit(home, capsule.id, "U0BOB", clock, arguments=ARGS, base=capsule.args_sha256)
    assert isinstance(result, Decided) and result.decision.edit == 0
    assert result.decision.args_sha256 == capsule.args_sha256
    assert request(home, capsule, clock).edits() == []


async def test_a_tampered_edit_breaks_the_chain_and_the_request_cannot_be_opened(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, PolicyRule(quorum=2))
    await _edit(home, capsule.id, "U0BOB", clock, base=capsule.args_sha256)
    path = home.session_dir(capsule.session_id) / "approvals" / f"{capsule.id}.edit-1.json"
    data = json.loads(path.read_text())
    data["arguments"]["replicas"] = 99
    path.write_text(json.dumps(data))
    with pytest.raises(HashMismatchError, match="edit 1"):
        request(home, capsule, clock)


async def test_the_policy_can_forbid_editing(home: Home, clock: FixedClock) -> None:
    capsule = park(home, clock, PolicyRule(allow_edit=False))
    result = await _edit(home, capsule.id, "U0BOB", clock, base=capsule.args_sha256)
    assert isinstance(result, Refused) and "does not allow editing" in result.reason
    # ... and so can the rule in force now, for a request captured before.
    loose = park(home, clock)
    tight = Policy(tools={TOOL: PolicyRule(allow_edit=False)})
    result = await _edit(home, loose.id, "U0BOB", clock, base=loose.args_sha256, policy=tight)
    assert isinstance(result, Refused) and "does not allow editing" in result.reason


# reasons --------------------------------------------------------------------------------
async def test_a_required_reason_is_enforced_for_approve_deny_and_edit(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, PolicyRule(require_reason=True))
    for refused in (
        await approve(home, capsule, "U0BOB", clock),
        await approve(home, capsule, "U0BOB", clock, approve=False, reason="  "),
        await _edit(home, capsule.id, "U0BOB", clock, base=capsule.args_sha256),
    ):
        assert isinstance(refused, Refused) and "needs a reason" in refused.reason
    assert request(home, capsule, clock).decision() is None
    done = await approve(home, capsule, "U0BOB", clock, reason="traffic spike")
    assert isinstance(done, Decided) and done.decision.reason == "traffic spike"
    # A rule tightened after the request applies too.
    other = park(home, clock)
    strict = Policy(tools={TOOL: PolicyRule(require_reason=True)})
    tightened = await approve(home, other, "U0BOB", clock, policy=strict)
    assert isinstance(tightened, Refused) and "needs a reason" in tightened.reason


# the second clock -----------------------------------------------------------------------
async def test_valid_until_is_set_at_approval_from_the_tighter_rule(
    home: Home, clock: FixedClock
) -> None:
    unlimited = park(home, clock)
    result = await approve(home, unlimited, "U0BOB", clock)
    assert isinstance(result, Decided) and result.decision.valid_until == ""
    capsule = park(home, clock, PolicyRule(valid_for_seconds=3600))
    clock.advance(timedelta(minutes=10))
    tighter = Policy(tools={TOOL: PolicyRule(valid_for_seconds=600)})
    result = await approve(home, capsule, "U0BOB", clock, policy=tighter)
    assert isinstance(result, Decided)
    assert result.decision.valid_until == utc_iso(clock.now() + timedelta(minutes=10))
    denied = park(home, clock, PolicyRule(valid_for_seconds=3600))
    result = await approve(home, denied, "U0BOB", clock, approve=False)
    assert isinstance(result, Decided) and result.decision.valid_until == ""


# records written before this version ------------------------------------------------------
async def test_a_version_1_vote_counts_for_the_capsules_own_hash(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, PolicyRule(quorum=2))
    votes = home.session_dir(capsule.session_id) / "approvals" / f"{capsule.id}.votes"
    votes.mkdir()
    (votes / "U0BOB.json").write_text(
        json.dumps(
            {
                "schema_version": 1,
                "approval_id": capsule.id,
                "user": "U0BOB",
                "approve": True,
                "at": utc_iso(clock.now()),
                "reason": "",
            }
        )
    )
    assert request(home, capsule, clock).approvals() == ("U0BOB",)
    result = await approve(home, capsule, "U0CAROL", clock)
    assert isinstance(result, Decided) and result.decision.deciders == ("U0BOB", "U0CAROL")


# forms bound to the modals the bot opened -------------------------------------------------
def test_a_form_is_taken_once_by_its_person_and_only_as_its_kind(home: Home) -> None:
    form = Form(
        view_id="V0EDIT1",
        approval_id="appr_0123456789abcdef",
        user="U0BOB",
        opened_at="2026-11-02T09:00:00.000Z",
        kind="edit",
        args_sha256="ab" * 32,
    )
    record_form(home, form)
    assert take_form(home, form_key="V0EDIT1", user="U0CAROL", kind="edit") is None
    assert take_form(home, form_key="V0EDIT1", user="U0BOB", kind="deny") is None
    assert take_form(home, form_key="V0EDIT1", user="U0BOB", kind="deny") is None
    assert peek_form(home, form_key="V0EDIT1", user="U0BOB", kind="edit") == form
    assert peek_form(home, form_key="V0EDIT1", user="U0BOB", kind="edit") == form  # not used up
    assert take_form(home, form_key="V0EDIT1", user="U0BOB", kind="edit") == form
    assert take_form(home, form_key="V0EDIT1", user="U0BOB", kind="edit") is None
    assert peek_form(home, form_key="V0EDIT1", user="U0BOB", kind="edit") is None


async def test_an_expiry_has_no_approvers_reasons(home: Home, clock: FixedClock) -> None:
    capsule = park(home, clock)
    clock.advance(timedelta(days=2))
    due = await expire_due(
        request(home, capsule, clock), now=clock.now(), policy=Policy(), groups=NoGroups()
    )
    assert not isinstance(due, Unchecked)
    decision = due.decision
    assert decision.deciders == ("signoff",) and decision.reason.startswith("no decision")
    assert request(home, capsule, clock).reasons(decision) == []


async def test_the_call_run_is_the_one_approved_whatever_was_written_after(
    home: Home, clock: FixedClock
) -> None:
    """An edit written after the decision (another process that checked "not decided yet"
    just before it came) makes the current call differ from the approved one: what runs is
    read up to the decision's edit and checked against its hash, never the later write."""
    capsule = park(home, clock)
    decided = await approve(home, capsule, "U0BOB", clock)
    assert isinstance(decided, Decided)
    req = request(home, capsule, clock)
    late = Edit(
        approval_id=capsule.id,
        n=1,
        user="U0CAROL",
        at=utc_iso(clock.now()),
        base_sha256=capsule.args_sha256,
        tool_version="v1",
        arguments=dict(EDITED),
        args_sha256=args_sha256(TOOL, EDITED),
        changed=("replicas",),
    )
    assert req.write_edit(late)
    assert req.current().arguments == EDITED  # what the disk now says
    call = approved_arguments(req, decided.decision)
    assert call is not None and call.arguments == ARGS and call.edit == 0
    # A decision whose hash the arguments up to its edit no longer give: nothing to run.
    forged = decided.decision.model_copy(update={"args_sha256": late.args_sha256})
    assert approved_arguments(req, forged) is None
