"""The audit of the governance chaos run (``test_chaos_governance.py``): what the tools
wrote down themselves against the approvals' records and what Slack shows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from chaos_audit import Audit
from chaos_reading import approval_dirs, load_sessions, read_json, read_jsonl
from chaos_tools import ToolEffects

__all__ = ["audit_governance", "stopped_by_kill_switch"]


def _after_the_last_turn_stopped(home: Path) -> Iterator[dict[str, Any]]:
    """The lines after the model's last turn in each session the kill switch ended, switched
    on during it (the thread is told it stopped; lifting the switch does not take the turn
    up again): the whole transcript, which for recovery's child of a turn a kill cut is
    its parent's lines (it holds only a reference to them)."""
    for session in load_sessions(home).values():
        record = session.record
        if record["state"] == "cancelled" and record["transitions"][-1]["reason"] == "kill switch":
            lines = session.transcript
            last = max((i for i, m in enumerate(lines) if m.get("role") == "assistant"), default=-1)
            yield from lines[last + 1 :]


def stopped_by_kill_switch(home: Path) -> set[str]:
    """The messages a turn took in and then ended on the kill switch."""
    return {str(m["ts"]) for m in _after_the_last_turn_stopped(home) if m.get("role") == "user"}


def told_then_stopped(home: Path) -> set[str]:
    """Approvals whose outcome a turn put in the conversation and then ended on the kill
    switch before the model spoke, as for a message."""
    return {
        str(m["approval_id"]) for m in _after_the_last_turn_stopped(home) if m.get("approval_id")
    }


def excuse_stopped(result: Audit, home: Path) -> None:
    """An uncertain outcome the model never spoke after, because the kill switch ended that
    turn, is by design (``told_then_stopped``): a note, not a violation."""
    cut = told_then_stopped(home)
    kept = []
    for detail in result.violations["uncertain_untold"]:
        if detail.split(" ", 1)[0] in cut and detail.endswith("no model turn after it"):
            result.notes.append(f"{detail}: the kill switch ended that turn")
        else:
            kept.append(detail)
    result.violations["uncertain_untold"] = kept


def _ran(effects: ToolEffects) -> dict[str, list[tuple[dict[str, Any], float | None]]]:
    """What the tools themselves say started, by approval id: (arguments, wall time)."""
    ran: dict[str, list[tuple[dict[str, Any], float | None]]] = {}
    if effects.ledger.exists():
        for line in effects.ledger.read_text().splitlines():
            parts = line.split(" ")
            if len(parts) >= 4 and parts[0] == "start":
                ran.setdefault(parts[1], []).append(({"note": parts[2]}, float(parts[3])))
    for call in read_jsonl(effects.mcp_record):
        if call.get("tool") == "restart_deployment":
            ran.setdefault(str(call.get("approval_id") or "-"), []).append(
                (dict(call.get("arguments") or {}), None)
            )
    return ran


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _check_decided_call(
    out: Audit,
    base: Path,
    capsule: dict[str, Any],
    decision: dict[str, Any],
    starts: list[tuple[dict[str, Any], float | None]],
) -> None:
    """What ran is the call the decision names (the edit's, if edited), and everyone it
    names approved that very call: by a vote for its hash, or by making the edit."""
    aid, n = capsule["id"], int(decision.get("edit") or 0)
    where = f"{aid} {capsule.get('tool')} {capsule.get('arguments')}"
    edit = read_json(base / f"{aid}.edit-{n}.json") if n else None
    call = edit if edit is not None else capsule
    for arguments, _ in starts:
        if arguments != call.get("arguments"):
            out.add("edited_wrong_args", f"{where}: ran {arguments}, decided edit {n}: {call}")
    if decision["verdict"] != "approved":
        return
    if decision.get("args_sha256") != call.get("args_sha256"):
        out.add("edited_wrong_args", f"{where}: decided hash is not edit {n}'s")
    votes = base / (f"{aid}.votes-{n}" if n else f"{aid}.votes")
    approving = {
        str(v["user"])
        for v in (read_json(p) or {} for p in votes.glob("*.json"))
        if v.get("approve") and v.get("args_sha256") == decision.get("args_sha256")
    }
    if edit is not None:
        approving.add(str(edit["user"]))
    deciders = list(decision.get("deciders") or ())
    if len(deciders) == 1 and not approving:
        return  # a quorum of one: the decision is its one approval, hash and all
    for user in deciders:
        if user not in approving:
            out.add("edited_wrong_args", f"{where}: {user} decided edit {n} without approving it")


def audit_governance(out: Audit, home: Path, effects: ToolEffects, posts: Counter[str]) -> None:
    """Edited calls ran with their edit, stale ones never, reminders and escalations once.

    ``posts``: how many Slack messages deliver each outbox entry id (from their metadata).
    """
    ran = _ran(effects)
    for kind in ("edited_wrong_args", "stale_ran", "reminder_posts", "frozen_never_ran"):
        out.violations.setdefault(kind, [])
    figures: Counter[str] = Counter()
    for aid, base in approval_dirs(home):
        capsule = read_json(base / f"{aid}.json") or {}
        decision = read_json(base / f"{aid}.decision.json")
        figures["stale"] += (base / f"{aid}.stale.json").exists()
        where = f"{aid} {capsule.get('tool')} {capsule.get('arguments')}"
        starts = ran.get(aid, [])
        if decision is not None:
            figures["edited_decisions"] += bool(decision.get("edit"))
            _check_decided_call(out, base, capsule, decision, starts)
        stale = read_json(base / f"{aid}.stale.json")
        claim = read_json(base / f"{aid}.claim.json")
        if stale is not None and (starts or claim is not None):
            out.add("stale_ran", f"{where}: stale, yet claimed {claim} or started {len(starts)}")
        until = (decision or {}).get("valid_until")
        # Claimed only while valid, and stale only once it is not (the same clock writes both).
        if until and claim is not None and claim["at"] >= until:
            out.add("stale_ran", f"{where}: claimed at {claim['at']}, valid until {until}")
        if until and stale is not None and stale["at"] < until:
            out.add("stale_ran", f"{where}: stale at {stale['at']}, valid until {until}")
        for _, at in starts:
            if until and at is not None and at > _epoch(until) + 1.0:
                out.add("stale_ran", f"{where}: started at {at}, valid until {until}")
        figures["ran"] += bool(starts)
        # A reminder or escalation on record is posted once, and never written well after
        # the decision. Within a second it may be: a decision from another process (a
        # terminal) can land between the sweep's look and its records (seed 86420: 1 ms
        # apart). Delivery then does not post it (tests/test_reminder_crossing_a_decision.py);
        # a gap of seconds would mean the sweep did not look at all.
        decided_at = (decision or {}).get("at")
        for key, name in [(f"remind-{n}", f"reminder-{n}") for n in range(1, 10)] + [
            ("escalate", "escalated")
        ]:
            record = read_json(base / f"{aid}.{name}.json")
            figures["reminders" if key != "escalate" else "escalations"] += record is not None
            sent = posts[f"{key}-{aid}"]
            if (record is None and sent) or sent > 1:
                out.add("reminder_posts", f"{where}: {name} on record {record}, posted {sent}")
            elif record is not None and not sent and decided_at is None:
                out.add("reminder_posts", f"{where}: {name} on record, never posted")
            elif (
                record is not None
                and decided_at is not None
                and _epoch(record["at"]) > _epoch(decided_at) + 1.0
            ):
                out.add("reminder_posts", f"{where}: {name} at {record['at']}, decided earlier")
        told_frozen = posts[f"frozen-{aid}"]
        figures["frozen_told"] += bool(told_frozen)
        if told_frozen and not (starts or stale or claim):
            out.add("frozen_never_ran", f"{where}: frozen, never run or stale after the switch")
    out.figures.update(figures)
