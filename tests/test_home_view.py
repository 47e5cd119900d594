"""The Home tab's Block Kit: its three parts, the card's buttons, and Slack's limits for a
Home view (100 blocks, 3000 characters a section) however much waits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from test_cards_content import HOSTILE, NOW, make, texts

from agent_core.engine import PendingApproval
from agent_core.person_queries import DecidedApproval, OpenRequest
from approvals import SYSTEM, Decision, ExecutionResult, PolicyRule
from bot.cards import APPROVE, DENY
from bot.home import HOME_CALLBACK, MAX_WAITING, HomeContent, home_view
from bot.slack_text import literal


def _limits(view: dict[str, Any]) -> None:
    blocks = view["blocks"]
    assert view["type"] == "home" and view["callback_id"] == HOME_CALLBACK
    assert len(blocks) <= 100
    ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(ids) == len(set(ids))
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        for element in block.get("elements", []):
            text = element.get("text", "")
            if element["type"] == "button":
                assert len(text["text"]) <= 75  # Slack's limit for a button's label
            else:
                assert len(text) <= 3000


def decided(verdict: str, *, by: tuple[str, ...], ran: bool | None = None) -> DecidedApproval:
    c = make()
    d = Decision(
        approval_id=c.id,
        verdict=verdict,
        deciders=by,
        at="2026-11-02T07:00:00.000Z",
        args_sha256=c.args_sha256,
    )
    result = None
    if ran is not None:
        result = ExecutionResult(
            approval_id=c.id, session_id=c.session_id, at=d.at, ok=ran, output=""
        )
    return DecidedApproval(c, d, result, None, c.arguments)


def test_an_empty_home_says_so() -> None:
    view = home_view(HomeContent(user="U0BOB", waiting=(), mine=(), decided=(), now=NOW))
    _limits(view)
    shown = texts(view["blocks"])
    for line in (
        "Waiting for you (0)",
        "Nothing waits for your decision.",
        "Nothing you asked for is waiting.",
        "No decisions for you in the last 7 days.",
    ):
        assert line in shown
    assert not [b for b in view["blocks"] if b["type"] == "actions"]


def test_each_part_shows_what_a_person_needs_to_act() -> None:
    quorum = make(
        {"service": "web", "version": "2.1.0"},
        policy=PolicyRule(quorum=2, approver_groups=("S0OPS",)),
    )
    waiting = [
        PendingApproval(make(), ()),
        PendingApproval(quorum, ("U0CAROL",)),
        PendingApproval(make(card_channel="C0APPROVALS", policy=PolicyRule(quorum=2)), ("U0BOB",)),
    ]
    mine = [OpenRequest(quorum, ("U0CAROL",), None, quorum.policy.quorum, quorum.arguments)]
    done = [
        decided("approved", by=("U0BOB",), ran=True),
        decided("expired", by=(SYSTEM,)),
        decided("denied", by=("U0DAVE",)),
    ]
    content = HomeContent(
        user="U0BOB",
        waiting=waiting,
        mine=mine,
        decided=done,
        now=NOW + timedelta(hours=2),
        notice=literal("Your approval is counted: 1 of 2."),
        bot_user="U0SIGNOFF",
    )
    view = home_view(content)
    _limits(view)
    shown = texts(view["blocks"])
    assert shown.startswith("ℹ️ Your approval is counted: 1 of 2.")
    assert "*`restart_service`*  `service=api`" in shown
    assert "asked by <@U0ALICE> in <#C0OPS>, 2 hours ago · expires <!date^" in shown
    assert ">restart api please" in shown
    assert "1 of 2 approvals: <@U0CAROL>" in shown
    # Where its card is: a request from a DM shows the approvals channel.
    assert "in <#C0APPROVALS>" in shown
    # Bob voted on the third one already: no buttons for it, a note instead.
    assert "✔ You approved it; 1 more needed." in shown
    buttons = [
        (e["action_id"], e["value"])
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert buttons == [
        (APPROVE, waiting[0].capsule.id),
        (DENY, waiting[0].capsule.id),
        (APPROVE, quorum.id),
        (DENY, quorum.id),
    ]
    assert "`version=2.1.0`" not in shown and "`service=web, version=2.1.0`" in shown
    assert "waiting for <!subteam^S0OPS>" in shown
    assert "✅ approved by <@U0BOB> 4 hours ago · asked by <@U0ALICE> · ran: ok" in shown
    assert "⌛ expired: nobody decided in time" in shown
    assert "🚫 denied by <@U0DAVE>" in shown
    assert "Updated <!date^" in shown


def test_a_long_queue_is_capped_and_hostile_text_is_inert() -> None:
    waiting = [
        PendingApproval(make({"payload": "p" * 3000, "<!here>": "x"}, request_text=HOSTILE), ())
        for _ in range(40)
    ]
    bigs = [make({"a": "b" * 5000}) for _ in range(30)]
    mine = [OpenRequest(big, (), None, 1, big.arguments) for big in bigs]
    done = [decided("denied", by=tuple(f"U0D{i:03d}" for i in range(300))) for _ in range(30)]
    view = home_view(HomeContent(user="U0BOB", waiting=waiting, mine=mine, decided=done, now=NOW))
    _limits(view)
    shown = texts(view["blocks"])
    assert "Waiting for you (40)" in shown
    assert f"…and {40 - MAX_WAITING} more: `/signoff pending` lists them." in shown
    for live in ("<!here>", "<!channel>", "<https://evil"):
        assert live not in shown


def test_your_open_requests_name_the_approvers_an_escalation_added() -> None:
    """Escalated to the on-call group, a request may be decided by it too: "waiting for"
    named only the rule's approvers, as if the escalation had not happened."""
    request = make(policy=PolicyRule(approver_users=("U0BOB",)))
    mine = [OpenRequest(request, (), None, 1, request.arguments, escalated=("U0DAVE", "S0ONCALL"))]
    content = HomeContent(user="U0ALICE", waiting=[], mine=mine, decided=[], now=NOW)
    shown = texts(home_view(content)["blocks"])
    assert "waiting for <@U0BOB>, <@U0DAVE>, <!subteam^S0ONCALL>" in shown


def test_an_open_request_anyone_may_decide_says_so_after_an_escalation() -> None:
    """A rule open to anyone, escalated to the on-call: "waiting for" named only them."""
    request = make(policy=PolicyRule())
    mine = [OpenRequest(request, (), None, 1, request.arguments, escalated=("U0DAVE",))]
    content = HomeContent(user="U0ALICE", waiting=[], mine=mine, decided=[], now=NOW)
    assert "waiting for anyone in signoff's organization" in texts(home_view(content)["blocks"])


def test_a_refused_card_s_reason_is_shown_as_text() -> None:
    routed = make(card_channel="C0APPROVALS")
    mine = [OpenRequest(routed, (), None, 1, routed.arguments, refused="<!channel> is_archived")]
    view = home_view(HomeContent(user="U0ALICE", waiting=(), mine=mine, decided=(), now=NOW))
    _limits(view)
    shown = texts(view["blocks"])
    assert "could not be posted in <#C0APPROVALS> (&lt;!channel&gt; is_archived)" in shown
    assert "<!channel>" not in shown


def test_a_call_too_long_for_its_line_is_decided_on_its_card_not_here() -> None:
    """The line holds 160 characters of the call; an argument past them hid behind "…"
    while Approve here ran it. Now such a request offers only Deny here (which runs
    nothing) and says to approve it on its card, where the whole call is shown."""
    short = make({"service": "api"})
    long = make({"service": "api", "note": "x" * 200, "dry_run": False})
    view = home_view(
        HomeContent(
            user="U0BOB",
            waiting=(PendingApproval(short, ()), PendingApproval(long, ())),
            mine=(),
            decided=(),
            now=NOW,
        )
    )
    _limits(view)
    actions = {
        b["elements"][0]["value"]: [e["action_id"] for e in b["elements"]]
        for b in view["blocks"]
        if b["type"] == "actions"
    }
    assert actions == {short.id: [APPROVE, DENY], long.id: [DENY]}, actions
    said = texts([b for b in view["blocks"] if b.get("block_id") == f"wait-{long.id}"])
    assert "too long to show here whole" in said and "approve it on its card" in said, said
