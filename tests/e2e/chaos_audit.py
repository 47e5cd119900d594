"""The end of a chaos run: what must hold, read from the bot's home and from Slack.

What was read (``chaos_reading``) is checked against what the bot promises; each check
names a violation kind, and every kind is reported, zero or not.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaos_people import Posted, ts_key
from chaos_reading import (
    SlackView,
    StoredSession,
    approval_dirs,
    batch_waits,
    card_text,
    has_buttons,
    lineage_of,
    load_sessions,
    read_json,
    stored,
    withdrawn,
)
from chaos_tools import LEDGER_TOOL, MCP_TOOL, ToolEffects

from localslack import LocalSlack

__all__ = ["KINDS", "Audit", "audit", "unapproved_effects"]

GATED = {"restart_service", "deploy_service", "scale_service", LEDGER_TOOL, MCP_TOOL}
TERMINAL = {"completed", "failed", "awaiting_approval", "cancelled"}
# How the offline model words an uncertain outcome: as a result, or as a late event.
UNCERTAIN_SAID = ("may or may not have run", ": uncertain: ")
# How a card says its approved call ran (bot/cards.py): "ran: ok", "ran: failed", or the
# uncertain outcome, which has no "ran: ".
RAN_SHOWN = ("ran: ", "ran, outcome uncertain")
# How it says a claimed call whose tool was never called (no intent ticket), or that its
# tool refused before any of it ran (the result's ``ran``), did not run.
NOT_RUN_SHOWN = ("not run: claimed", "not run_: ")
VERDICT_SHOWN = {"approved": "Approved", "denied": "Denied", "expired": "Expired"}

# Every violation kind, in the order the report prints them; all must be 0.
KINDS = (
    "lost",  # acked by the bot (or stored) but never recorded in a session
    "unanswered",  # recorded, but no answer after it, on disk or in Slack
    "missing_replies",  # an answer the model gave that is not in Slack
    "missing_cards",  # a capsule without its card in Slack
    "duplicate_posts",  # two messages for one outbox entry part or one approval
    "approved_never_run",  # approved, yet never claimed, run or reported uncertain
    "approved_refused",  # approved but refused at run time (a hash or seal problem)
    "reruns",  # an approved call started twice
    "ran_unapproved",  # a gated effect without an approved decision on disk
    "uncertain_untold",  # an uncertain outcome the model was never told, or never spoke after
    "outcome_untold",  # a decision the conversation never heard
    "live_decided_cards",  # a decided card that still has buttons
    "wrong_cards",  # a card whose state is not the one on disk
    "inbox_left",  # a message still in some inbox/new
    "withdrawn_answered",  # a deleted message signoff said was withdrawn, yet recorded
    "outbox_left",  # a Slack write still pending, or given up on
    "nonterminal",  # a session not in a terminal state
    "orphans",  # a session no thread's HEAD leads to
    "verify",  # `signoff verify` did not exit 0
    # Of the run itself (the test fills these in):
    "not_quiet",  # work still going on when the time to settle ran out
    "errors_logged",  # an error signoff logged (a worker or delivery failure, a traceback)
    "unexpected_exits",  # a bot that exited without being killed
    "stop_exit",  # the last bot did not exit 0 on SIGTERM
    "terminal_failures",  # `signoff approve|deny` exited neither 0 nor 1 (not killed)
    "too_quiet",  # it killed, asked or clicked too little to prove anything
)


@dataclass
class Audit:
    figures: dict[str, int] = field(default_factory=dict)
    violations: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})
    # What is worth knowing but breaks nothing (say, a message Slack gave up delivering).
    notes: list[str] = field(default_factory=list)

    def add(self, kind: str, detail: str) -> None:
        self.violations[kind].append(detail)

    @property
    def ok(self) -> bool:
        return not any(self.violations.values())


def _check_messages(
    out: Audit,
    home: Path,
    slack: SlackView,
    posted: list[Posted],
    heads: dict[str, list[Any]],
    deleted: set[str],
) -> None:
    never = taken_back = 0
    for p in posted:
        where = f"{p.user} {p.text!r} in thread {p.thread} (ts {p.ts})"
        if p.ts in deleted:
            # Withdrawn while it waited (never answered), or read already (answered as
            # any): never both.
            recorded = any(m.get("ts") == p.ts for m in heads.get(p.thread) or [])
            taken_back += (gone := withdrawn(home, p))
            if recorded and gone:
                out.add("withdrawn_answered", f"{where}: withdrawn, and in the transcript")
            continue
        if not stored(home, p):
            if slack.acked(p.ts):
                out.add("lost", f"{where}: acked but not in the thread's inbox")
            else:
                # No delivery was acked and Slack gave up: the bot never had it to lose.
                never += 1
                out.notes.append(f"never delivered: {where}: {slack.fates(p.ts)}")
            continue
        transcript = heads.get(p.thread) or []
        at = next(
            (
                i
                for i, m in enumerate(transcript)
                if m.get("role") == "user" and m.get("ts") == p.ts
            ),
            None,
        )
        if at is None:
            out.add("lost", f"{where}: stored, in no session: {slack.fates(p.ts)}")
            continue
        if not any(m.get("role") == "assistant" for m in transcript[at + 1 :]):
            out.add("unanswered", f"{where}: no model turn after it")
        elif not any(ts_key(m["ts"]) > ts_key(p.ts) for m in slack.in_thread(p.thread)):
            out.add("unanswered", f"{where}: nothing from the bot after it in Slack")
    out.figures.update(never_delivered=never, withdrawn=taken_back)


def _check_replies(
    out: Audit, sessions: dict[str, StoredSession], slack: SlackView, thread: str, chain: list[str]
) -> None:
    """Every answer the model gave is in Slack, and every capsule has its card."""
    start = 0
    for session_id in chain:
        transcript = sessions[session_id].transcript
        for index in range(start, len(transcript)):
            message = transcript[index]
            text = str(message.get("text") or "")
            said = message.get("role") == "assistant" and text.strip()
            if said and slack.replies[(f"reply-{session_id}-m{index}", 0)] == 0:
                out.add("missing_replies", f"{session_id} m{index} {text[:60]!r} ({thread})")
        start = max(start, len(transcript))
        for approval_id in sessions[session_id].capsules:
            if not slack.cards.get(approval_id):
                out.add("missing_cards", f"{approval_id} of {session_id} ({thread})")


def _told(transcript: list[dict[str, Any]], approval_id: str) -> str | None:
    """The status the conversation heard for this approval (None: never an outcome)."""
    for m in transcript:
        if m.get("approval_id") == approval_id and m.get("status") not in (None, "pending"):
            return str(m["status"])
    return None


def _spoke_after(transcript: list[dict[str, Any]], approval_id: str) -> bool:
    """Did the model take a turn after it was told this approval's outcome?"""
    told = [i for i, m in enumerate(transcript) if m.get("approval_id") == approval_id]
    last = told[-1] if told else len(transcript)
    return any(m.get("role") == "assistant" for m in transcript[last + 1 :])


def unapproved_effects(home: Path, applied: Counter[str]) -> list[str]:
    """Effects whose approval id names no approval: "" (a real tool started without one)
    too, which as a path would name the approvals directory itself."""
    return [
        f"effect {key!r} has no approval"
        for key in applied
        if not key.startswith("appr_") or not (home / "approvals" / key[5:7] / key).exists()
    ]


def _check_approvals(
    out: Audit,
    home: Path,
    sessions: dict[str, StoredSession],
    slack: SlackView,
    heads: dict[str, list[Any]],
    effects: ToolEffects,
) -> None:
    fleet = read_json(home / "fleet.json") or {"history": []}
    # The effects of gated calls, by approval id: the fleet's changes (one per id at most:
    # it is idempotent) and the real tools' starts (every one, so a rerun shows).
    applied = Counter(str(h["key"]) for h in fleet["history"]) + effects.starts()
    intents: Counter[str] = Counter()
    for session_id, s in sessions.items():
        for t in s.tickets:
            if t.get("kind") == "intent" and t.get("approval_id"):
                intents[str(t["approval_id"])] += 1
            elif t.get("kind") == "intent" and t.get("tool") in GATED:
                out.add("ran_unapproved", f"{t['tool']} started in {session_id} with no approval")
    verdicts: Counter[str] = Counter()
    uncertain_by_thread: Counter[str] = Counter()
    for aid, base in approval_dirs(home):
        capsule = read_json(base / f"{aid}.json") or {}
        thread = str((capsule.get("thread") or {}).get("thread_ts", "?"))
        decision, result = (
            read_json(base / f"{aid}.decision.json"),
            read_json(base / f"{aid}.result.json"),
        )
        claimed = (base / f"{aid}.claim.json").exists()
        verdict = decision["verdict"] if decision else "pending"
        verdicts[verdict] += 1
        where = f"{aid} {capsule.get('tool')} {capsule.get('arguments')} ({thread})"
        if intents[aid] > 1 or applied[aid] > 1:
            out.add("reruns", f"{where}: {intents[aid]} starts, {applied[aid]} effects")
        if verdict != "approved" and (claimed or intents[aid] or applied[aid]):
            out.add("ran_unapproved", f"{where}: {verdict}, yet claimed or run")
        told = _told(heads.get(thread) or [], aid)
        # A model turn that asked for several calls resumes (runs the approved ones and
        # hears every outcome) once all of them are decided: by design, not a loss.
        waits = batch_waits(base, capsule)
        if decision is not None and told is None:
            if waits:
                out.notes.append(f"{where}: {verdict}, told once its model turn's calls are")
            else:
                out.add("outcome_untold", f"{where}: {verdict}, never told in the conversation")
        if verdict == "approved":
            uncertain = claimed and (result is None or bool(result.get("uncertain")))
            if told == "error" and not claimed:
                out.add("approved_refused", f"{where}: approved but refused at run time")
            elif not claimed and not waits and not (base / f"{aid}.stale.json").exists():
                # (A stale approval, past its valid_for, must never start.)
                out.add("approved_never_run", f"{where}: approved, never started")
            elif uncertain:
                uncertain_by_thread[thread] += 1
                if told != "uncertain":
                    out.add("uncertain_untold", f"{where}: uncertain, the thread heard {told}")
                elif not _spoke_after(heads.get(thread) or [], aid):
                    out.add("uncertain_untold", f"{where}: uncertain, no model turn after it")
            elif result is not None and result.get("ok") and applied[aid] != 1:
                out.add("approved_never_run", f"{where}: ran ok with {applied[aid]} effects")
        shown = slack.cards.get(aid) or []
        if len(shown) > 1:
            out.add("duplicate_posts", f"{where}: {len(shown)} cards")
        for card in shown:
            if decision is not None and has_buttons(card):
                out.add("live_decided_cards", f"{where}: {verdict}, card {card['ts']} has buttons")
            elif decision is None and not has_buttons(card):
                out.add("wrong_cards", f"{where}: undecided, card {card['ts']} has no buttons")
            elif decision is not None and VERDICT_SHOWN[verdict] not in card_text(card):
                out.add("wrong_cards", f"{where}: {verdict}, card {card['ts']} does not say so")
            elif result is not None and not any(
                s in card_text(card)
                for s in (RAN_SHOWN if intents[aid] and result.get("ran", True) else NOT_RUN_SHOWN)
            ):
                how = "ran" if intents[aid] and result.get("ran", True) else "not run"
                out.add("wrong_cards", f"{where}: {how}, card {card['ts']} does not say so")
    for detail in unapproved_effects(home, applied):
        out.add("ran_unapproved", detail)
    for thread, count in uncertain_by_thread.items():
        said = sum(
            any(words in str(m.get("text")) for words in UNCERTAIN_SAID)
            for m in slack.in_thread(thread)
        )
        if said < count:
            # The model was told (checked above) and spoke after it, but the offline model
            # answers only the last message: a person's newer message can hide the outcome.
            out.notes.append(f"thread {thread}: {count} uncertain, {said} put into words")
    out.figures.update(
        approvals=verdicts["approved"],
        denials=verdicts["denied"],
        expired=verdicts["expired"],
        undecided=verdicts["pending"],
        uncertain=sum(uncertain_by_thread.values()),
        effects=sum(applied.values()),
    )


def _done_records(home: Path) -> list[dict[str, Any]]:
    """The first record of each id in every thread's outbox log (a torn line skipped)."""
    first: dict[str, dict[str, Any]] = {}
    for path in sorted(home.glob("threads/*/*/*/*/outbox.jsonl")):
        for line in path.read_bytes().splitlines():
            try:
                done = json.loads(line)
            except ValueError:
                continue  # torn by a kill mid-append; its entry stayed pending
            first.setdefault(done["id"], done)
    return list(first.values())


def _check_leftovers(
    out: Audit, home: Path, sessions: dict[str, StoredSession], seen: set[str]
) -> None:
    for path in sorted(home.glob("threads/*/*/*/*/inbox/new/[!.]*")):
        out.add("inbox_left", str(path.relative_to(home)))
    for path in sorted(home.glob("outbox/pending/*.json")):
        out.add("outbox_left", f"pending {path.stem}")
    outcomes: Counter[str] = Counter()
    for done in _done_records(home):
        outcomes[done["outcome"]] += 1
        if done["outcome"] == "failed":
            out.add("outbox_left", f"gave up on {done['id']}: {done.get('error')}")
    for session_id, s in sessions.items():
        if s.record["state"] not in TERMINAL:
            out.add("nonterminal", f"{session_id} is {s.record['state']}")
        if session_id not in seen:
            out.add("orphans", f"{session_id} ({s.record['state']}, cause {s.record.get('cause')})")
    out.figures.update(sent=outcomes["sent"], adopted=outcomes["adopted"])


def audit(
    slack: LocalSlack,
    home: Path,
    posted: list[Posted],
    threads: list[str],
    *,
    effects: ToolEffects,
    deleted: set[str] | None = None,
) -> Audit:
    out = Audit()
    sessions = load_sessions(home)
    view = SlackView(slack)
    heads: dict[str, list[Any]] = {}
    seen: set[str] = set()
    for thread in threads:
        chain = lineage_of(home, sessions, thread)
        seen.update(chain)
        heads[thread] = sessions[chain[-1]].transcript if chain else []
        _check_replies(out, sessions, view, thread, chain)
    _check_messages(out, home, view, posted, heads, deleted or set())
    _check_approvals(out, home, sessions, view, heads, effects)
    _check_leftovers(out, home, sessions, seen)
    dupes = [
        f"{entry} part {part}: {n} posts" for (entry, part), n in view.replies.items() if n > 1
    ]
    for detail in dupes:
        out.add("duplicate_posts", detail)
    out.figures.update(
        sessions=len(sessions),
        cards=len(view.cards),
        replies=sum(view.replies.values()),
        unmarked=view.unmarked,
    )
    return out
