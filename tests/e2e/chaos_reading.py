"""Reading what a chaos run left: the bot's home as plain JSON (the layout of
``docs/storage.md``) and the bot's messages in LocalSlack, indexed by their metadata.

Nothing here goes through the product's own readers, so a bug in those cannot hide
itself from the audit (``chaos_audit``).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaos_people import Posted
from signoff_e2e_kit import inbox_stored, session_dirs, thread_path

from localslack import Delivery, LocalSlack

__all__ = [
    "OPS",
    "TEAM",
    "SlackView",
    "StoredSession",
    "approval_dirs",
    "card_text",
    "has_buttons",
    "lineage_of",
    "load_sessions",
    "read_json",
    "read_jsonl",
    "signoff_payload",
    "stored",
    "withdrawn",
]

OPS, TEAM = "C0OPS", "T0LOCAL"


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    return data


def approval_dirs(home: Path) -> list[tuple[str, Path]]:
    """Every approval by its pointer: (its id, the asking session's ``approvals/``)."""
    found = []
    for pointer in sorted((home / "approvals").glob("*/appr_*")):
        session = json.loads(pointer.read_bytes())["session"]
        found.append((pointer.name, home / "sessions" / session[5:7] / session / "approvals"))
    return found


def batch_waits(approvals: Path, capsule: dict[str, Any]) -> bool:
    """Does a call asked in the same model turn (``approvals``: the asking session's
    directory of them) still wait for its decision? A model turn resumes, and is told its
    calls' outcomes, only once all of them are decided (docs/design-notes.md)."""
    return any(
        not (approvals / f"{other}.decision.json").exists()
        for other in capsule.get("batch") or ()
        if other != capsule.get("id")
    )


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Complete records; a torn last line (a crash mid-append) is not one."""
    out: list[dict[str, Any]] = []
    if not path.exists():
        return out
    for line in path.read_bytes().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


@dataclass
class StoredSession:
    record: dict[str, Any]
    transcript: list[dict[str, Any]]
    tickets: list[dict[str, Any]]
    capsules: list[str]


def load_sessions(home: Path) -> dict[str, StoredSession]:
    found = {}
    for directory in session_dirs(home):
        capsules = [p.name[: -len(".json")] for p in (directory / "approvals").glob("*.json")]
        found[directory.name] = StoredSession(
            record=json.loads((directory / "session.json").read_bytes()),
            transcript=read_jsonl(directory / "transcript.jsonl"),
            tickets=[json.loads(p.read_bytes()) for p in sorted(directory.glob("tickets/*.json"))]
            + read_jsonl(directory / "tickets.jsonl"),
            capsules=[c for c in capsules if "." not in c],
        )
    resolved: dict[str, list[dict[str, Any]]] = {}
    for session_id in found:
        found[session_id].transcript = _whole_transcript(found, session_id, resolved)
    return found


def _whole_transcript(
    found: dict[str, StoredSession], session_id: str, resolved: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Follow a child's reference to its parent's first lines (docs/storage.md)."""
    if session_id not in resolved:
        own = found[session_id].transcript
        ref = own[0].get("continues") if own and "role" not in own[0] else None
        if isinstance(ref, dict) and ref.get("session") in found:
            inherited = _whole_transcript(found, str(ref["session"]), resolved)
            own = inherited[: int(ref["lines"])] + own[1:]
        resolved[session_id] = own
    return resolved[session_id]


def lineage_of(home: Path, sessions: dict[str, StoredSession], thread: str) -> list[str]:
    head = thread_path(home, thread, team=TEAM, channel=OPS) / "HEAD"
    chain: list[str] = []
    current = head.read_text().strip() if head.exists() else None
    while current and current in sessions and current not in chain:
        chain.append(current)
        current = sessions[current].record.get("parent_id")
    return chain[::-1]


def signoff_payload(message: dict[str, Any]) -> dict[str, Any]:
    meta = message.get("metadata") or {}
    payload = meta.get("event_payload") if meta.get("event_type") == "signoff_outbox" else None
    return payload if isinstance(payload, dict) else {}


def has_buttons(message: dict[str, Any]) -> bool:
    return any(b.get("type") == "actions" for b in message.get("blocks") or [])


def card_text(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks") or [], ensure_ascii=False)


class SlackView:
    """The bot's messages in #ops, indexed by what their metadata says they are."""

    def __init__(self, slack: LocalSlack) -> None:
        self.messages = slack.messages(channel=OPS)
        self.bot = [m for m in self.messages if m.get("bot_id")]
        self.replies: Counter[tuple[str, int]] = Counter()
        self.cards: dict[str, list[dict[str, Any]]] = {}
        for m in self.bot:
            payload = signoff_payload(m)
            if "approval" in payload:
                self.cards.setdefault(str(payload["approval"]), []).append(m)
            elif "entry" in payload:
                self.replies[(str(payload["entry"]), int(payload.get("part", 0)))] += 1
        self.unmarked = sum(1 for m in self.bot if not signoff_payload(m))
        self.deliveries: dict[str, list[Delivery]] = {}
        for delivery in slack.deliveries(type="events_api"):
            event = (delivery.payload or {}).get("event") or {}
            if isinstance(event, dict):
                self.deliveries.setdefault(str(event.get("ts")), []).append(delivery)

    def acked(self, ts: str) -> bool:
        return any(d.acked for d in self.deliveries.get(ts, []))

    def fates(self, ts: str) -> str:
        return ", ".join(
            f"{d.envelope_id}/{d.kind}/try{d.retry_attempt}"
            f"{'/copy' if d.duplicate_of else ''}:{d.status}@{d.socket_id}@{d.sent_at or 0:.3f}"
            for d in self.deliveries.get(ts, [])
        )

    def in_thread(self, thread: str) -> list[dict[str, Any]]:
        return [m for m in self.bot if m.get("thread_ts") == thread and m["ts"] != thread]


def stored(home: Path, posted: Posted) -> bool:
    return inbox_stored(thread_path(home, posted.thread, team=TEAM, channel=OPS), posted.ts)


def withdrawn(home: Path, posted: Posted) -> bool:
    """Did signoff record ``posted`` as withdrawn (deleted while it waited)?"""
    taken = thread_path(home, posted.thread, team=TEAM, channel=OPS) / "inbox" / "taken.jsonl"
    try:
        lines = taken.read_text().splitlines()
    except FileNotFoundError:
        return False
    # The first line of a ts decides, unless a "restored" line (a newer edit asked signoff
    # again after one had taken the mention out) undid it.
    state: bool | None = None
    for line in lines:
        record = json.loads(line) if line.endswith("}") else {}
        if record.get("ts") != posted.ts:
            continue
        if record.get("restored") is True:
            state = None
        elif state is None:
            state = record.get("withdrawn") is True
    return state is True
