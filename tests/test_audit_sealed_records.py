"""``signoff audit`` over the records of a finished approval: votes, decision, edits,
reasons, claim, result and told are written after the asking session's seal, so they are
sealed on their own when the outcome is told (``<id>.sealed.json``). Any of them changed,
removed or added afterwards is flagged, and the export exits 1; an approval still open is
reported as such, and one told by a signoff from before these seals as not sealed."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_audit import _ask, _audit

from agent_core.surface import RecordingSurface
from approvals import ApprovalRequest, Decided, Policy, PolicyRule, args_sha256
from sessions import Home, SessionFiles, seal, verify

POLICY = Policy(
    default=PolicyRule(approver_users=("U0BOB", "U0CAROL"), quorum=2),
    tools={"scale_service": PolicyRule(approver_users=("U0BOB", "U0CAROL"))},
)


@dataclass(frozen=True)
class Finished:
    """A home with three told approvals and one still waiting."""

    home: Home
    voted: str  # quorum 2: Bob and Carol approved, no reasons; it ran
    edited: str  # Carol edited the arguments (her approval), no reason; it ran
    denied: str  # Carol denied it, with a reason
    waiting: str
    dirs: dict[str, Path]  # where each approval's records are, read before any tampering

    def path(self, approval_id: str, name: str) -> Path:
        return self.dirs[approval_id] / "approvals" / name


async def _finished(make_engine: Any, home: Home, **options: Any) -> Finished:
    engine = await make_engine(policy=POLICY, **options)
    voted = await _ask(engine, "restart api", 1)
    await engine.decide(voted, user="U0BOB", approve=True)
    await engine.decide(voted, user="U0CAROL", approve=True)
    edited = await _ask(engine, "scale api to 12", 2)
    result = await engine.edit(
        edited,
        user="U0CAROL",
        arguments={"service": "api", "replicas": 8},
        base_sha256=engine.current_hash(edited),
    )
    assert isinstance(result, Decided), result  # her edit is her approval: quorum 1
    denied = await _ask(engine, "restart web", 3)
    await engine.decide(denied, user="U0CAROL", approve=False, reason="change freeze")
    waiting = await _ask(engine, "restart db", 4)
    await engine.idle()
    await engine.close()
    ids = (voted, edited, denied, waiting)
    dirs = {i: ApprovalRequest.open(home, i).session_dir for i in ids}
    return Finished(home, *ids, dirs=dirs)


def _export(monkeypatch: pytest.MonkeyPatch, capsys: Any, home: Home) -> tuple[int, dict[str, Any]]:
    code, out = _audit(monkeypatch, capsys, home)
    return code, {r["approval_id"]: r for r in map(json.loads, out.splitlines())}


def _rewrite(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))


def _change(**values: Any) -> Callable[[Path], None]:
    return lambda path: _rewrite(path, lambda data: data.update(values))


def _delete(path: Path) -> None:
    path.unlink()


def _create(**record: Any) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps({"approval_id": path.name.split(".")[0], **record}))

    return write


def _elsewhere(path: Path) -> Path:
    """A place beside the home, out of every seal's sight."""
    home = next(p for p in path.parents if p.name == "sessions").parent
    return home.parent / f"elsewhere-{path.name}"


def _linked(**record: Any) -> Callable[[Path], None]:
    """The record written elsewhere, and linked to by its name: read like a record."""

    def write(path: Path) -> None:
        path.parent.mkdir(exist_ok=True)
        target = _elsewhere(path)
        target.write_text(json.dumps({"approval_id": path.name.split(".")[0], **record}))
        path.symlink_to(target)

    return write


def _votes_linked(path: Path) -> None:
    """The votes directory moved away, a vote added to it, and linked to by its name."""
    moved = _elsewhere(path)
    path.rename(moved)
    vote = {"user": "U0MALLORY", "approve": True, "at": "2026-11-02T09:30:00.000Z"}
    (moved / "U0MALLORY.json").write_text(json.dumps({"approval_id": path.name[:21], **vote}))
    path.symlink_to(moved)


def _new_arguments(path: Path) -> None:
    """Consistently: the edit's hash and the decision's, so every hash check holds."""
    arguments = {"service": "api", "replicas": 80}
    digest = args_sha256("scale_service", arguments)
    _rewrite(path, lambda data: data.update(arguments=arguments, args_sha256=digest))
    decision = path.with_name(path.name.replace("edit-1", "decision"))
    _rewrite(decision, lambda data: data.update(args_sha256=digest))


@dataclass(frozen=True)
class Tamper:
    name: str
    approval: str  # which of Finished's approvals
    record: str  # its name after "<approval id>."
    change: Callable[[Path], None]


TAMPERS = [
    Tamper("vote_user_changed", "voted", "votes/U0BOB.json", _change(user="U0MALLORY")),
    Tamper("vote_deleted", "voted", "votes/U0CAROL.json", _delete),
    Tamper("approved_flipped_to_denied", "voted", "decision.json", _change(verdict="denied")),
    Tamper("denied_flipped_to_approved", "denied", "decision.json", _change(verdict="approved")),
    Tamper("decision_time_changed", "voted", "decision.json", _change(at="2026-11-01T00:00Z")),
    Tamper("reason_rewritten", "denied", "decision.json", _change(reason="the requester said")),
    Tamper("edit_author_changed", "edited", "edit-1.json", _change(user="U0DAVE")),
    Tamper("edit_arguments_changed", "edited", "edit-1.json", _new_arguments),
    Tamper("decision_deleted", "voted", "decision.json", _delete),
    Tamper("told_deleted", "voted", "told.json", _delete),
    Tamper("result_rewritten", "voted", "result.json", _change(ok=False, output="it failed")),
    Tamper("claim_deleted", "voted", "claim.json", _delete),
    Tamper(
        "escalation_added",
        "denied",
        "escalated.json",
        _create(due_at="x", at="x", added_users=["U0MALLORY"], added_groups=[]),
    ),
    Tamper(
        "vote_added",
        "edited",
        "votes-1/U0MALLORY.json",
        _create(user="U0MALLORY", approve=True, at="2026-11-02T09:30:00.000Z"),
    ),
    Tamper("seal_deleted", "voted", "sealed.json", _delete),
    # Links: every read follows one, so one is a record that must be sealed like any other.
    Tamper(
        "vote_added_as_a_link",
        "edited",
        "votes-1/U0MALLORY.json",
        _linked(user="U0MALLORY", approve=True, at="2026-11-02T09:30:00.000Z"),
    ),
    Tamper(
        "escalation_added_as_a_link",
        "denied",
        "escalated.json",
        _linked(due_at="x", at="x", added_users=["U0MALLORY"], added_groups=[]),
    ),
    Tamper("votes_directory_linked", "voted", "votes", _votes_linked),
]


async def test_a_finished_approval_is_sealed_and_an_open_one_says_so(
    make_engine: Any, home: Home, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    f = await _finished(make_engine, home)
    code, records = _export(monkeypatch, capsys, home)
    assert code == 0, records
    for told in (f.voted, f.edited, f.denied):
        assert records[told]["records_seal"] == "ok", records[told]
        assert records[told]["problems"] == []
        assert f.path(told, f"{told}.sealed.json").exists()
    assert records[f.voted]["deciders"] == ["U0BOB", "U0CAROL"]
    assert records[f.edited]["edited_by"] == ["U0CAROL"]
    assert records[f.waiting]["records_seal"] == "open" and records[f.waiting]["problems"] == []
    # The asking sessions still verify: the seal record is one that may come after.
    for approval_id in records:
        session = home.session_dir(records[approval_id]["session_id"])
        assert verify(Path(session)).ok


@pytest.mark.parametrize("tamper", TAMPERS, ids=lambda t: t.name)
async def test_a_record_changed_removed_or_added_after_the_outcome_is_flagged(
    make_engine: Any,
    home: Home,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    tamper: Tamper,
) -> None:
    f = await _finished(make_engine, home)
    hit = getattr(f, tamper.approval)
    name = f"{hit}.{tamper.record}"
    tamper.change(f.path(hit, name))
    code, records = _export(monkeypatch, capsys, home)
    assert code == 1, records[hit]
    flagged = records[hit]
    assert flagged["records_seal"] == "tampered", flagged
    assert any(name in p for p in flagged["problems"]), flagged["problems"]
    others = [r for k, r in records.items() if k != hit]
    assert all(r["problems"] == [] for r in others), others


async def test_a_card_recorded_after_the_outcome_is_not_tampering(
    make_engine: Any,
    home: Home,
    surface: RecordingSurface,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    """Slack may post a card only after the request was decided and told (no bot was
    running while it was decided from a terminal): its record legitimately follows."""
    f = await _finished(make_engine, home, surface=None)  # cards stay queued
    card = f.path(f.denied, f"{f.denied}.card.json")
    assert not card.exists()
    code, records = _export(monkeypatch, capsys, home)
    assert code == 0 and records[f.denied]["records_seal"] == "ok", records[f.denied]
    bot = await make_engine(policy=POLICY, surface=surface)
    await bot.close()  # delivers what is queued: the cards, then their updates
    assert card.exists() and surface.cards
    code, records = _export(monkeypatch, capsys, home)
    assert code == 0, records[f.denied]
    assert records[f.denied]["records_seal"] == "ok"


async def test_an_approval_told_before_seals_existed_is_exported_as_not_sealed(
    make_engine: Any, home: Home, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """A home from before: no seal record, and the session that told the outcome did not
    announce one. Exported, not flagged, never shown as verified."""
    f = await _finished(make_engine, home)
    told = json.loads(f.path(f.voted, f"{f.voted}.told.json").read_text())
    teller = Path(home.session_dir(told["session_id"]))
    # What an older signoff wrote: the same trace without the announcement, sealed.
    trace = teller / "trace.jsonl"
    lines = [json.loads(line) for line in trace.read_text().splitlines()]
    for line in lines:
        if line.get("kind") == "decision_applied":
            (line.get("data") or {}).pop("seal_follows", None)
    trace.write_text("".join(json.dumps(line) + "\n" for line in lines))
    seal(teller)
    assert SessionFiles(teller).read_trace()
    f.path(f.voted, f"{f.voted}.sealed.json").unlink()
    code, records = _export(monkeypatch, capsys, home)
    assert code == 0, records[f.voted]
    assert records[f.voted]["records_seal"] == "not sealed"
    assert records[f.voted]["problems"] == []


@pytest.mark.parametrize(
    ("approval", "verdict"),
    [("voted", None), ("edited", "denied")],
    ids=["decision_removed", "decision_flipped_to_denied"],
)
async def test_a_call_that_ran_is_flagged_once_its_approval_is_undone_with_its_seal(
    make_engine: Any,
    home: Home,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    approval: str,
    verdict: str | None,
) -> None:
    """Seals are digests: whoever removes the told record and the seal makes an approval
    read as open. A call that ran still left its claim and result: without an approval
    beside them, the export must not show it as waiting, or denied, and verified."""
    f = await _finished(make_engine, home)
    hit = getattr(f, approval)
    decision = f.path(hit, f"{hit}.decision.json")
    if verdict is None:
        decision.unlink()
    else:
        _change(verdict=verdict)(decision)
    for name in ("told", "sealed"):
        f.path(hit, f"{hit}.{name}.json").unlink()
    code, records = _export(monkeypatch, capsys, home)
    assert code == 1, records[hit]
    assert any("claim" in p and "not approved" in p for p in records[hit]["problems"]), records[hit]
    others = [r for k, r in records.items() if k != hit]
    assert all(r["problems"] == [] for r in others), others
