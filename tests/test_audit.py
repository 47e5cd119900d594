"""``signoff audit``: every approval exported from the files, and tampering flagged."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from engine_support import message

from agent_core.audit import since_time
from agent_core.engine import Engine
from approvals import EditRecorded, Installation, Origin, Policy, PolicyRule, args_sha256
from bot.cli import main
from bot.cli_audit import CSV_COLUMNS
from sessions import FixedClock, Home, ThreadKey

POLICY = Policy(
    default=PolicyRule(approver_users=("U0BOB", "U0CAROL")),
    tools={"scale_service": PolicyRule(approver_users=("U0BOB", "U0CAROL"), quorum=2)},
)


def _thread(n: int) -> ThreadKey:
    return ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts=f"170000000{n}.000100")


async def _ask(engine: Engine, text: str, n: int) -> str:
    assert isinstance(engine.clock, FixedClock)
    engine.clock.advance(timedelta(minutes=1))
    await engine.ingest(message(text, ts=f"170000000{n}.000100", thread=_thread(n)))
    await engine.idle()
    (pending,) = [p for p in await engine.waiting() if p.capsule.thread == _thread(n)]
    return pending.capsule.id


def _audit(monkeypatch: pytest.MonkeyPatch, capsys: Any, home: Home, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("SIGNOFF_HOME", str(home.root))
    for name in ("SIGNOFF_POLICY", "SIGNOFF_CONFIG", "SIGNOFF_MODEL"):
        monkeypatch.delenv(name, raising=False)
    capsys.readouterr()
    code = main(["audit", *args])
    captured = capsys.readouterr()
    return code, captured.out + ("\n" + captured.err if code == 2 else "")


def _tree(root: Path) -> list[tuple[str, float]]:
    return sorted((str(p.relative_to(root)), p.stat().st_mtime) for p in root.rglob("*"))


async def test_the_export_has_every_approval_and_flags_a_tampered_decided_capsule(
    make_engine: Any, home: Home, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    engine = await make_engine(policy=POLICY)
    ran = await _ask(engine, "restart api", 1)
    await engine.decide(ran, user="U0BOB", approve=True, reason="wedged")
    edited = await _ask(engine, "scale api to 12", 2)
    base = engine.current_hash(edited)
    result = await engine.edit(
        edited, user="U0CAROL", arguments={"service": "api", "replicas": 8}, base_sha256=base
    )
    assert isinstance(result, EditRecorded)
    after_edit = engine.current_hash(edited)
    await engine.decide(edited, user="U0BOB", approve=True, seen_sha256=after_edit)
    denied = await _ask(engine, "restart web", 3)
    await engine.decide(denied, user="U0CAROL", approve=False, reason="freeze")
    pending = await _ask(engine, "restart db", 4)
    await engine.idle()
    await engine.close()

    before = _tree(home.root)
    code, out = _audit(monkeypatch, capsys, home)
    assert code == 0, out
    records = {r["approval_id"]: r for r in map(json.loads, out.splitlines())}
    assert list(records) == [ran, edited, denied, pending]  # oldest first
    assert _tree(home.root) == before  # read-only: nothing created or touched

    one = records[ran]
    assert one["schema_version"] == 1 and one["tool"] == "restart_service"
    assert one["status"] == "approved" and one["deciders"] == ["U0BOB"]
    assert one["reasons"] == ["U0BOB: wedged"] and one["outcome"] == "ran: ok"
    assert one["requester"] == "U0ALICE" and one["approvers"] == ["U0BOB", "U0CAROL"]
    assert one["requested_at"] <= one["decided_at"] <= one["executed_at"] <= one["finished_at"]
    assert one["seal"] == "ok" and one["problems"] == []
    assert one["args_sha256"] == args_sha256("restart_service", {"service": "api"})

    two = records[edited]
    assert two["args_sha256"] == args_sha256("scale_service", {"service": "api", "replicas": 12})
    assert two["edited_sha256"] == args_sha256("scale_service", {"service": "api", "replicas": 8})
    assert two["edited_by"] == ["U0CAROL"] and two["deciders"] == ["U0CAROL", "U0BOB"]
    assert [(v["user"], v["args_sha256"]) for v in two["votes"]] == [
        ("U0BOB", two["edited_sha256"])
    ]
    assert two["quorum"] == 2 and two["outcome"] == "ran: ok"

    assert records[denied]["status"] == "denied"
    assert records[denied]["reasons"] == ["U0CAROL: freeze"]
    assert records[denied]["outcome"] == "denied" and records[denied]["executed_at"] == ""
    # Asked on the tests' fixed clock (2026-11-02), judged by the command on this day's:
    # past its deadline, which no bot has recorded.
    assert records[pending]["status"] == "pending"
    assert records[pending]["outcome"] == "expired, not yet recorded"
    assert records[pending]["seal"] == "ok"  # the asking session ended awaiting approval

    # Someone edits the decided capsule after the fact: the export says so, and fails.
    session = Path(home.session_dir(one["session_id"]))
    capsule_path = session / "approvals" / f"{ran}.json"
    data = json.loads(capsule_path.read_text())
    data["arguments"]["service"] = "db"
    capsule_path.write_text(json.dumps(data, indent=2))
    code, out = _audit(monkeypatch, capsys, home)
    assert code == 1
    after = {r["approval_id"]: r for r in map(json.loads, out.splitlines())}
    flagged = after[ran]
    assert flagged["seal"] == "tampered"
    assert f"changed: approvals/{ran}.json" in flagged["problems"]
    assert any("hash to" in p for p in flagged["problems"])
    assert list(after) == list(records)
    assert all(r["problems"] == [] and r["seal"] == "ok" for k, r in after.items() if k != ran)

    # CSV: one header, one row per approval, lists joined.
    code, out = _audit(monkeypatch, capsys, home, "--format", "csv", "--since", "2026-11-02")
    assert code == 1  # the tampered record is still in it
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == CSV_COLUMNS and len(rows) == 5
    by_id = {row[0]: dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:]}
    assert by_id[edited]["deciders"] == "U0CAROL; U0BOB"
    assert by_id[edited]["votes"].startswith(f"U0BOB@{two['edited_sha256'][:12]} ")
    assert by_id[ran]["seal"] == "tampered"

    # After every request: only the tampered one, whose date cannot be trusted any more.
    code, out = _audit(monkeypatch, capsys, home, "--since", "2026-11-03")
    assert code == 1 and [json.loads(line)["approval_id"] for line in out.splitlines()] == [ran]


def test_bad_arguments_and_a_missing_home_exit_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    code, out = _audit(monkeypatch, capsys, Home(tmp_path / "nowhere"))
    assert code == 2 and "no signoff home" in out
    assert not (tmp_path / "nowhere").exists()
    home = Home(tmp_path / "h")
    home.ensure()
    code, out = _audit(monkeypatch, capsys, home, "--since", "last week")
    assert code == 2 and "--since" in out and "Traceback" not in out
    code, out = _audit(monkeypatch, capsys, home, "--since", "2026-13-45")
    assert code == 2 and "not a day" in out
    # An empty value (an unset variable in a script: --since "$SINCE") is a mistake too,
    # not "since ever": the export would quietly be every approval.
    code, out = _audit(monkeypatch, capsys, home, "--since", "")
    assert code == 2 and "--since" in out and "Traceback" not in out


async def test_a_decision_changed_after_its_outcome_was_told_is_flagged(
    make_engine: Any, home: Home, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """The decision is written after the asking session's seal; the session that applied
    it recorded what it applied (verdict, deciders, hash) in its own sealed trace."""
    engine = await make_engine(policy=POLICY)
    ran = await _ask(engine, "restart api", 1)
    await engine.decide(ran, user="U0BOB", approve=True)
    await engine.idle()
    await engine.close()
    code, out = _audit(monkeypatch, capsys, home)
    assert code == 0, out
    record = json.loads(out)
    decision_path = Path(home.session_dir(record["session_id"])) / "approvals"
    decision_path = decision_path / f"{ran}.decision.json"
    data = json.loads(decision_path.read_text())
    data["deciders"] = ["U0CAROL"]  # someone covers up who approved it
    decision_path.write_text(json.dumps(data))
    code, out = _audit(monkeypatch, capsys, home)
    assert code == 1
    flagged = json.loads(out)
    assert flagged["deciders"] == ["U0CAROL"]
    assert any("differs from what" in p and "deciders" in p for p in flagged["problems"])


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        # "a request may wait at most 365d": the policy's limit on a request's wait, which
        # has nothing to do with how far back an audit may look.
        ("400d", "2025-10-28T09:00:00.000Z"),
        ("36h", "2026-11-30T21:00:00.000Z"),
        # Further back than any date: everything ("", no lower bound).
        ("999999999d", ""),
    ],
)
def test_since_may_look_back_more_than_a_year(since: str, expected: str) -> None:
    now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert since_time(since, now) == expected


@pytest.mark.parametrize("since", ["0d", "-5d", "5x", "\u0665d", "1234567890d"])
def test_since_refuses_what_is_no_lookback(since: str) -> None:
    with pytest.raises(ValueError, match=r"not a duration or a day"):
        since_time(since, datetime(2026, 12, 2, 9, 0, tzinfo=UTC))


@pytest.mark.parametrize("since", ["2026-12-03", "2062-11-01"])
def test_since_refuses_a_day_still_to_come(since: str) -> None:
    """A scheduled export doubles as a check: a typo for a day to come (2062 for 2026)
    would export nothing and exit 0 every time, a check that always passes."""
    now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match=r"has not begun"):
        since_time(since, now)
    assert since_time("2026-12-02", now) == "2026-12-02T00:00:00.000Z"  # today: its start


async def test_the_json_export_writes_no_control_character_a_terminal_would_act_on(
    make_engine: Any, home: Home, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    # A reason typed in Slack's deny form: an 8-bit CSI (U+009B, which terminals such as
    # xterm act on like ESC [), a right-to-left override that redraws the line, a DEL and
    # a tag character. JSON escapes only what is below U+0020; the rest must be escaped
    # as \u… too, and still read back as typed.
    reason = "no \x9b2J\x9b31mok \u202edevorppa\u202c \x7f\U000e0041 \x1b[2J"
    engine = await make_engine(policy=POLICY)
    denied = await _ask(engine, "restart web", 1)
    await engine.decide(denied, user="U0CAROL", approve=False, reason=reason)
    await engine.close()
    code, out = _audit(monkeypatch, capsys, home)
    assert code == 0, out
    assert all(char.isprintable() or char == "\n" for char in out), ascii(out)
    (record,) = map(json.loads, out.splitlines())
    assert record["reasons"] == [f"U0CAROL: {reason}"]


@pytest.mark.parametrize("seal_removed", [False, True])
async def test_a_capsule_dated_back_out_of_the_window_is_still_exported_and_flagged(
    make_engine: Any,
    home: Home,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    seal_removed: bool,
) -> None:
    """``--since`` filters on when the capsule says it was requested: a capsule that no
    longer matches its seal (or whose seal was removed) says nothing trustworthy, and one
    whose date was changed as well as its arguments would be left out of the scheduled
    check that must flag it."""
    engine = await make_engine(policy=POLICY)
    ran = await _ask(engine, "restart api", 1)
    await engine.decide(ran, user="U0BOB", approve=True)
    await engine.close()
    (capsule_path,) = home.root.glob(f"sessions/*/*/approvals/{ran}.json")
    data = json.loads(capsule_path.read_text())
    data["arguments"]["service"] = "db"
    data["created_at"] = "2020-01-01T00:00:00.000Z"
    capsule_path.write_text(json.dumps(data, indent=2))
    if seal_removed:
        (capsule_path.parent.parent / "MANIFEST.sha256").unlink()
    code, out = _audit(monkeypatch, capsys, home, "--since", "2026-11-02")
    assert code == 1, out
    (record,) = map(json.loads, out.splitlines())
    assert record["approval_id"] == ran
    assert record["seal"] == ("not sealed" if seal_removed else "tampered")


async def test_a_pending_request_whose_session_lost_its_seal_is_flagged(
    make_engine: Any,
    home: Home,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A session that parked was sealed when it ended, so a request still waiting whose
    asking session has no seal had it removed (after which its capsule can be changed
    unseen). ``signoff verify`` said so; the export flagged it only once decided."""
    engine = await make_engine(policy=POLICY)
    waiting = await _ask(engine, "restart api", 1)
    await engine.close()
    (capsule_path,) = home.root.glob(f"sessions/*/*/approvals/{waiting}.json")
    (capsule_path.parent.parent / "MANIFEST.sha256").unlink()
    code, out = _audit(monkeypatch, capsys, home)
    assert code == 1, out
    (record,) = map(json.loads, out.splitlines())
    assert (record["approval_id"], record["outcome"], record["seal"]) == (
        waiting,
        "expired, not yet recorded",  # asked on the fixed clock, judged on this day's
        "not sealed",
    )
    assert any("has no seal" in p for p in record["problems"]), record["problems"]


async def test_a_reason_cannot_pass_for_another_entry_of_a_csv_list(
    make_engine: Any, home: Home, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """CSV list cells join their items with "; ": a reason holding one read as one more
    approver's reason, or (in the votes cell) one more vote, that nobody gave."""
    engine = await make_engine(policy=POLICY)
    edited = await _ask(engine, "scale api to 12", 1)
    forged = 'too many, "really"\n=2+3; U0EVE: fine'
    await engine.edit(
        edited,
        user="U0CAROL",
        arguments={"service": "api", "replicas": 8},
        base_sha256=engine.current_hash(edited),
        reason=forged,
    )
    vote = "ok); U0EVE@0123456789ab 2026-11-02T09:00:00.000Z (fine"
    seen = engine.current_hash(edited)
    await engine.decide(edited, user="U0BOB", approve=True, seen_sha256=seen, reason=vote)
    await engine.idle()
    await engine.close()

    code, out = _audit(monkeypatch, capsys, home, "--format", "csv")
    assert code == 0
    header, row = csv.reader(io.StringIO(out))
    cells = dict(zip(header, row, strict=True))
    # Each item that holds a ";" is a JSON string (its ";" escaped): read back exactly.
    reasons = [json.loads(r) for r in cells["reasons"].split("; ")]
    assert reasons == [f"U0CAROL: {forged}", f"U0BOB: {vote}"]
    (voted,) = cells["votes"].split("; ")
    assert json.loads(voted).startswith("U0BOB@") and json.loads(voted).endswith(f"({vote})")


async def test_a_guests_vote_names_the_organization_it_came_from(
    make_engine: Any, home: Home, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """A rule may name a Slack Connect guest; their vote records their organization, and an
    auditor reads it in the export (JSON ``team``, CSV "U… of T…"); the installation's own
    people's votes name none."""
    named = PolicyRule(approver_users=("U0BOB", "U0GUEST"), quorum=2)
    engine = await make_engine(policy=Policy(default=named))
    asked = await _ask(engine, "restart api", 1)
    home_team = Installation(team="T0LOCAL")
    guest = Origin(team="T0PARTNER", installation=home_team)
    await engine.decide(asked, user="U0GUEST", approve=True, origin=guest)
    ours = Origin(team="T0LOCAL", installation=home_team)
    await engine.decide(asked, user="U0BOB", approve=True, origin=ours)
    await engine.idle()
    await engine.close()

    code, out = _audit(monkeypatch, capsys, home)
    assert code == 0
    (record,) = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert {v["user"]: v["team"] for v in record["votes"]} == {"U0GUEST": "T0PARTNER", "U0BOB": ""}
    code, out = _audit(monkeypatch, capsys, home, "--format", "csv")
    header, row = csv.reader(io.StringIO(out))
    votes = dict(zip(header, row, strict=True))["votes"]
    assert "U0GUEST of T0PARTNER@" in votes and "U0BOB@" in votes


async def test_each_edit_is_in_the_export_with_the_organization_it_came_from(
    make_engine: Any, home: Home, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """An edit is its author's approval of the edited call: the export lists each, with who,
    when, what it changed from which hash, why, and (as a vote's) the organization of a
    Slack Connect guest; the installation's own people's edits name none."""
    named = PolicyRule(approver_users=("U0BOB", "U0GUEST"), quorum=2)
    engine = await make_engine(policy=Policy(default=named, tools={"scale_service": named}))
    asked = await _ask(engine, "scale api to 12", 1)
    home_team = Installation(team="T0LOCAL")
    guest = Origin(team="T0PARTNER", installation=home_team)
    base = engine.current_hash(asked)
    guest_edit = await engine.edit(
        asked,
        user="U0GUEST",
        arguments={"service": "api", "replicas": 8},
        base_sha256=base,
        reason="8 is; enough",
        origin=guest,
    )
    assert isinstance(guest_edit, EditRecorded), guest_edit
    edited = engine.current_hash(asked)
    await engine.edit(
        asked,
        user="U0BOB",
        arguments={"service": "api", "replicas": 6},
        base_sha256=edited,
        origin=Origin(team="T0LOCAL", installation=home_team),
    )
    await engine.idle()
    await engine.close()

    code, out = _audit(monkeypatch, capsys, home)
    assert code == 0
    (record,) = [json.loads(line) for line in out.splitlines() if line.strip()]
    first, second = record["edits"]
    assert first["user"] == "U0GUEST" and first["team"] == "T0PARTNER"
    assert first["base_sha256"] == base and first["args_sha256"] == edited
    assert first["changed"] == ["replicas"] and first["reason"] == "8 is; enough"
    assert second["user"] == "U0BOB" and second["team"] == ""
    assert second["base_sha256"] == edited and second["args_sha256"] == record["edited_sha256"]
    code, out = _audit(monkeypatch, capsys, home, "--format", "csv")
    header, row = csv.reader(io.StringIO(out))
    guest_edit, own_edit = dict(zip(header, row, strict=True))["edits"].split("; ")
    # Its reason holds a ";": the item is a JSON string, read back exactly.
    assert json.loads(guest_edit).startswith(f"U0GUEST of T0PARTNER@{edited[:12]} ")
    assert json.loads(guest_edit).endswith("changed replicas (8 is; enough)")
    assert own_edit.startswith(f"U0BOB@{record['edited_sha256'][:12]} ")
