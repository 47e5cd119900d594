"""Governance under hostile input: edited values and schemas, clicks that race each
other, escalations and reminders that must say only what is true."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, ClassVar

from governance_support import approve, park, posts, request, sweep
from test_cards_content import make

from agent_core.arg_edit import GENERAL, EditForm, check_arguments, edit_fields, parse_edit
from agent_core.surface import CardView
from agent_core.tools import Tool, ToolContext, tool
from agent_core.tools.json_schema import SchemaChecker
from approvals import (
    AlreadyDecided,
    ApprovalRequest,
    Decided,
    Policy,
    PolicyRule,
    Refused,
    StaticGroups,
    Timers,
    changes,
    record_edit,
)
from approvals.records import Edit
from bot.cards import card_blocks
from bot.edit_modal import edit_modal
from localslack.blockkit import validate_blocks, validate_modal
from sessions import FixedClock, Home, utc_iso


def test_an_edit_of_values_full_of_markup_still_fits_the_cards_section() -> None:
    """Escaping turns ``&`` into ``&amp;`` (and ``<`` into ``&lt;``): the edit's difference,
    clipped before escaping, grew past Slack's 3000 characters, and Slack refused the card
    update that showed the edit."""
    capsule = make({"service": "api"})
    edit = Edit(
        approval_id=capsule.id, n=1, user="U0BOB", at="2026-11-02T08:30:00Z",
        base_sha256=capsule.args_sha256, tool_version="v1",
        arguments={"service": "a&b<c>" * 400}, args_sha256="0" * 64, changed=("service",),
        reason="<!channel> & " * 100,
    )  # fmt: skip
    blocks = card_blocks(CardView(capsule, edits=(edit,)))
    assert validate_blocks(blocks) == []
    # However many people edited it in turn.
    editors = tuple(
        edit.model_copy(update={"n": n, "user": f"U0EDITOR{n:03d}"}) for n in range(1, 80)
    )
    assert validate_blocks(card_blocks(CardView(capsule, edits=(*editors, edit)))) == []
    (shown,) = [b["text"]["text"] for b in blocks if b["block_id"].startswith("edit-")]
    assert "service: " in shown and "a&amp;b&lt;c&gt;" in shown
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown
    # Never cut inside an entity: every "&" starts a whole one.
    assert all(part.startswith(("amp;", "lt;", "gt;")) for part in shown.split("&")[1:])


class _Advertised(Tool):
    """A tool with a schema as a server advertises it (an MCP tool), checked as one is."""

    def __init__(self, schema: dict[str, Any]) -> None:
        super().__init__(name="remote_tool", description="A tool a server describes.")
        self._schema = schema
        self._checker = SchemaChecker(self.name, schema)

    @property
    def schema(self) -> dict[str, Any]:
        return self._schema

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        return self._checker.validate(arguments)

    def gated(self, arguments: dict[str, Any]) -> bool:
        return True

    async def call(self, arguments: dict[str, Any], context: ToolContext) -> str:
        return "ok"


class _Fetched(http.server.BaseHTTPRequestHandler):
    asked: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.asked.append(self.path)
        body = b'{"type": "string"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_checking_an_edit_never_fetches_a_schema_reference_and_names_what_is_missing() -> None:
    """A server's schema may point an optional parameter at a ``$ref`` elsewhere. The call
    as asked never used it; an edit that fills it in was checked by a validator that
    fetched the address over HTTP (the tools' own checker refuses to), and one that points
    nowhere raised out of the check: the modal failed instead of showing the problem."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Fetched)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        address = f"http://127.0.0.1:{server.server_address[1]}/schema.json"
        for ref in (address, "#/$defs/missing"):
            tool = _Advertised(
                {
                    "type": "object",
                    "properties": {"service": {"type": "string"}, "extra": {"$ref": ref}},
                    "required": ["service"],
                }
            )
            assert tool.validate({"service": "api"}) == {"service": "api"}  # as asked
            fields = edit_fields(tool.schema, {"service": "api"})
            arguments, problems = parse_edit(fields, {"service": "api", "extra": '"x"'})
            assert problems == {} and arguments == {"service": "api", "extra": "x"}
            valid, problems = check_arguments(tool, arguments)
            assert valid == {} and list(problems) == [GENERAL], problems
            assert ref.lstrip("#") in problems[GENERAL] and "not in it" in problems[GENERAL]
        assert _Fetched.asked == []
    finally:
        server.shutdown()
        server.server_close()


class _SlowGroups:
    """Group membership that takes a while, as Slack's ``usergroups.users.list`` does;
    ``meanwhile`` runs while the first look-up waits (another click the bot handles)."""

    def __init__(self, members: frozenset[str], meanwhile: Callable[[], Awaitable[object]]):
        self._members = members
        self._meanwhile: Callable[[], Awaitable[object]] | None = meanwhile

    async def members(self, group_id: str) -> frozenset[str]:
        meanwhile, self._meanwhile = self._meanwhile, None
        if meanwhile is not None:
            await meanwhile()
        return self._members

    async def can_see(self, channel: str, user: str) -> bool:
        return True  # the cards are in a public channel


async def test_an_edit_whose_approval_was_decided_while_it_was_checked_is_not_written(
    home: Home, clock: FixedClock
) -> None:
    """Carol submits an edit; while her group membership is looked up, Bob's approval of
    the call as asked decides it. Her edit was written all the same, after the decision:
    the approved call no longer matched the arguments on record, and Bob's approval was
    refused when it was to start, so nothing ran."""
    rule = PolicyRule(approver_groups=("S0OPS",))
    policy = Policy(default=rule)
    capsule = park(home, clock, rule)
    ops = frozenset({"U0BOB", "U0CAROL"})

    async def bob_approves() -> object:
        return await approve(
            home, capsule, "U0BOB", clock, policy=policy, groups=StaticGroups({"S0OPS": ops})
        )

    result = await record_edit(
        ApprovalRequest.open(home, capsule.id, clock=clock),
        user="U0CAROL",
        arguments={**capsule.arguments, "replicas": 8},
        tool_version="v1",
        base_sha256=capsule.args_sha256,
        policy=policy,
        groups=_SlowGroups(ops, bob_approves),
        clock=clock,
    )
    assert isinstance(result, AlreadyDecided)
    assert result.decision.deciders == ("U0BOB",)
    request = ApprovalRequest.open(home, capsule.id, clock=clock)
    assert request.edits() == []
    assert request.current().args_sha256 == result.decision.args_sha256 == capsule.args_sha256


ESCALATE_TO_ASKER = PolicyRule(
    approver_users=("U0BOB",),
    escalate_after_seconds=3600,
    escalate_users=("U0ALICE", "U0DAVE"),
    expires_after_seconds=24 * 3600,
)


async def test_escalation_never_tells_the_requester_they_may_now_decide(
    home: Home, clock: FixedClock
) -> None:
    """``escalate_to`` names the person who asked (an on-call rota does): the thread said
    they "may now approve or deny it", the card that they "may decide it too" (and the
    index listed them among its approvers), while every click of theirs was refused."""
    capsule = park(home, clock, ESCALATE_TO_ASKER)
    clock.advance(timedelta(hours=1))
    await sweep(home, clock)
    req = request(home, capsule, clock)
    assert req.escalated_approvers() == ("U0DAVE",)
    assert "U0ALICE" not in req.row().approvers
    text = posts(home)[f"escalate-{capsule.id}"]
    assert "escalated to <@U0DAVE>, who may now approve" in text
    view = CardView(capsule, escalation=req.escalation())
    (block,) = [b for b in card_blocks(view) if b["block_id"].startswith("esc-")]
    assert "<@U0ALICE>" not in json.dumps(block)

    # Escalated to the requester alone: nobody is added, nothing says otherwise, and the
    # sweep is done with it (no marker left to take every pass).
    alone = park(home, clock, ESCALATE_TO_ASKER.model_copy(update={"escalate_users": ("U0ALICE",)}))
    clock.advance(timedelta(hours=1))
    await sweep(home, clock)
    req = request(home, alone, clock)
    assert req.escalation() is not None and req.escalated_approvers() == ()
    assert f"escalate-{alone.id}" not in posts(home)
    view = CardView(alone, escalation=req.escalation())
    assert not [b for b in card_blocks(view) if b["block_id"].startswith("esc-")]
    assert req.next_due() is None and Timers(home).armed(alone.id) == []
    refused = await approve(home, alone, "U0ALICE", clock)
    assert isinstance(refused, Refused)


async def test_an_approval_whose_request_was_denied_while_it_was_checked_is_not_counted(
    home: Home, clock: FixedClock
) -> None:
    """Bob approves (one of two needed); while his group membership is looked up, Dave
    denies. Bob's vote was written after the denial and he was told "your approval is
    counted: 1 of 2" of a request that was already denied."""
    rule = PolicyRule(approver_groups=("S0OPS",), quorum=2)
    policy = Policy(default=rule)
    capsule = park(home, clock, rule)
    ops = frozenset({"U0BOB", "U0DAVE"})

    async def dave_denies() -> object:
        groups = StaticGroups({"S0OPS": ops})
        return await approve(
            home, capsule, "U0DAVE", clock, approve=False, policy=policy, groups=groups
        )

    result = await approve(
        home, capsule, "U0BOB", clock, policy=policy, groups=_SlowGroups(ops, dave_denies)
    )
    assert isinstance(result, AlreadyDecided), result
    assert result.decision.verdict == "denied" and result.decision.deciders == ("U0DAVE",)
    assert request(home, capsule, clock).votes() == []


@tool(requires_human_approval=True)
def drain(node: str, note: str | None, force: bool | None) -> str:
    """Drain a node.

    Args:
        node: the node
        note: why (none: no note)
        force: whether to evict everything
    """
    return "ok"


def test_a_required_parameter_that_may_be_null_can_be_left_null() -> None:
    """``note: str | None`` with no default is required and nullable. Its field was
    required in the modal (Slack will not submit it empty) and on submit, so no edit of
    ``node`` could keep ``note`` null: every edit had to invent a value for it."""
    current = drain.validate({"node": "n1", "note": None, "force": None})
    fields = edit_fields(drain.schema, current)
    arguments, problems = parse_edit(fields, {"node": "n2", "note": "", "force": None})
    assert problems == {}
    valid, problems = check_arguments(drain, arguments)
    assert problems == {} and valid == {"node": "n2", "note": None, "force": None}
    form = EditForm("appr_0123456789abcdef", "drain", "0" * 64, fields, require_reason=False)
    modal = edit_modal(form)
    assert modal is not None and validate_modal(modal) == []
    inputs = {b["block_id"]: b for b in modal["blocks"] if b["type"] == "input"}
    assert inputs["arg:node"]["optional"] is False  # a plain required one stays required
    assert inputs["arg:note"]["optional"] is True and inputs["arg:force"]["optional"] is True
    assert "empty" in inputs["arg:note"]["hint"]["text"]
    # Still given when typed, and a plain required one still refuses to be empty.
    arguments, _ = parse_edit(fields, {"node": "n2", "note": "kernel", "force": "true"})
    assert arguments == {"node": "n2", "note": "kernel", "force": True}
    assert parse_edit(fields, {"node": " ", "note": "", "force": None})[1] == {"node": "required"}


async def test_a_reminder_with_nobody_left_to_ask_does_not_invite_anyone(
    home: Home, clock: FixedClock
) -> None:
    """Two approvals, from Bob or (after escalation) Dave: once Bob approved, the
    reminder had nobody to ping and said "Anyone but the requester may decide it on the
    card above" — everyone who then clicked was refused."""
    rule = PolicyRule(
        approver_users=("U0BOB",), quorum=2, remind_after_seconds=3600,
        escalate_after_seconds=8 * 3600, escalate_users=("U0DAVE",),
    )  # fmt: skip
    capsule = park(home, clock, rule)
    await approve(home, capsule, "U0BOB", clock)
    clock.advance(timedelta(hours=1))
    await sweep(home, clock)
    text = posts(home)[f"remind-1-{capsule.id}"]
    assert "Anyone" not in text and "Nobody else may approve it now" in text
    # Open to anyone, it still says so.
    anyone = park(home, clock, PolicyRule(remind_after_seconds=3600))
    clock.advance(timedelta(hours=1))
    await sweep(home, clock)
    assert "Anyone but the requester may decide it" in posts(home)[f"remind-1-{anyone.id}"]


def test_an_edit_from_1_to_true_or_to_1_0_is_a_difference_people_see() -> None:
    """Python holds ``True == 1 == 1.0``: an edit that turned a count into a flag (a
    parameter taking either) hashed differently, ran differently, and its card said
    "(no difference from the request)", the model "changed …: ." with nothing listed."""
    before = {"limit": 1, "ratio": 2, "flags": {"force": 0}}
    after = {"limit": True, "ratio": 2.0, "flags": {"force": False}}
    assert [c.name for c in changes(before, after)] == ["flags", "limit", "ratio"]
    assert changes(before, dict(before)) == []
    assert changes({"a": {"x": 1, "y": 2}}, {"a": {"y": 2, "x": 1}}) == []  # key order


async def test_an_edit_is_dated_when_it_was_clicked_not_when_groups_answered(
    home: Home, clock: FixedClock
) -> None:
    """Every approval on disk was cast before the deadline (a click after it is refused):
    the sweeps rely on it. An edit whose group look-up outlasted the deadline must be
    dated at the click, as a vote is, not after the look-up."""
    rule = PolicyRule(approver_groups=("S0OPS",), expires_after_seconds=3600)
    policy = Policy(default=rule)
    capsule = park(home, clock, rule)
    clock.advance(timedelta(minutes=59, seconds=59))
    clicked = utc_iso(clock.now())

    async def slack_is_slow() -> object:
        clock.advance(timedelta(seconds=5))  # past the deadline by the time it answers
        return None

    result = await record_edit(
        ApprovalRequest.open(home, capsule.id, clock=clock),
        user="U0CAROL",
        arguments={**capsule.arguments, "replicas": 8},
        tool_version="v1",
        base_sha256=capsule.args_sha256,
        policy=policy,
        groups=_SlowGroups(frozenset({"U0CAROL"}), slack_is_slow),
        clock=clock,
    )
    assert isinstance(result, Decided), result
    assert result.decision.at == clicked < capsule.expires_at
    (edit,) = ApprovalRequest.open(home, capsule.id, clock=clock).edits()
    assert edit.at == clicked


_LABELS: dict[str, Any] = {
    "properties": {**drain.schema["properties"], "labels": {"type": "object"}}
}


def test_json_typed_with_a_lone_surrogate_is_a_problem_on_its_field() -> None:
    """``"\\ud800"`` is valid JSON and typed as such: it passed every check, then hashing
    the edit raised (it is no UTF-8), and the approver's modal closed with no word."""
    fields = edit_fields(drain.schema | _LABELS, {"node": "n1", "note": None, "force": None})
    typed = {"node": "n1", "note": "", "force": None, "labels": '{"team": "\\ud800"}'}
    _, problems = parse_edit(fields, typed)
    assert set(problems) == {"labels"} and "surrogate" in problems["labels"]
    typed["labels"] = '{"team": "\\ud83d\\ude00"}'  # a pair is a character: 😀
    arguments, problems = parse_edit(fields, typed)
    assert problems == {} and arguments["labels"] == {"team": "😀"}
