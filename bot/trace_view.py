"""A thread's lineage as text a person reads in a terminal or a Slack file.

The same rendering serves ``signoff trace`` and ``/signoff trace``: sessions oldest to
newest, each with its state and reason, then its events — messages, model turns with
tokens, tool calls and results, approvals and their decisions.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from approvals import capsule_ids, load_capsule, load_decision
from sessions import (
    Home,
    SessionFiles,
    SessionRecord,
    SessionStore,
    ThreadDir,
    lineage,
)

__all__ = ["render_lineage", "render_session_list"]

_MAX_FIELD = 300


def _short(value: object, limit: int = _MAX_FIELD) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clock(at: str) -> str:
    return at[11:23] if len(at) >= 23 else at


def _event_lines(event: dict[str, Any]) -> Iterator[str]:
    kind = event.get("kind", "?")
    data: dict[str, Any] = event.get("data") or {}
    at = _clock(str(event.get("at", "")))
    if kind == "message":
        yield f"  {at}  💬 <{data.get('user', '?')}> {_short(data.get('text', ''))}"
    elif kind == "model_turn":
        usage = data.get("usage") or {}
        tokens = f"{usage.get('input_tokens', 0)}→{usage.get('output_tokens', 0)} tok"
        yield f"  {at}  🧠 {data.get('model')} ({tokens}, {data.get('stop_reason')})"
        if data.get("text"):
            yield f"              {_short(data['text'])}"
        for call in data.get("tool_calls") or []:
            problem = f"  ⚠ {call['parse_error']}" if call.get("parse_error") else ""
            args = (
                call.get("arguments")
                if call.get("arguments") is not None
                else call.get("raw_arguments")
            )
            yield f"              ↳ {call.get('name')}({_short(args, 160)}){problem}"
    elif kind == "tool_started":
        yield f"  {at}  ▶ {data.get('tool')} {_short(data.get('arguments'), 160)}"
    elif kind == "tool_finished":
        yield f"  {at}  ◀ {data.get('status')}: {_short(data.get('content', ''), 200)}"
    elif kind == "approval_requested":
        yield (
            f"  {at}  ✋ approval {data.get('id')}: {data.get('tool')}"
            f"({_short(data.get('arguments'), 120)}) hash {str(data.get('args_sha256', ''))[:12]}"
            f" expires {data.get('expires_at')}"
        )
    elif kind in ("session_started", "session_ended"):
        return
    else:
        yield f"  {at}  · {kind} {_short(data, 200)}"


def _decisions(home: Home, record: SessionRecord) -> Iterator[str]:
    directory = home.session_dir(record.id)
    for stem in capsule_ids(directory):
        capsule = load_capsule(directory, stem)
        decision = load_decision(directory, stem)
        if decision is None:
            yield f"  ⏳ {stem} {capsule.tool} pending, expires {capsule.expires_at}"
        else:
            who = ", ".join(decision.deciders)
            why = f": {decision.reason}" if decision.reason else ""
            yield f"  ⚖ {stem} {decision.verdict} by {who} at {decision.at}{why}"


def render_session(home: Home, record: SessionRecord, *, marker: bool = False) -> Iterator[str]:
    files = SessionFiles(home.session_dir(record.id))
    events = files.read_trace()
    tokens = sum(
        int((e.get("data") or {}).get("usage", {}).get("input_tokens", 0))
        + int((e.get("data") or {}).get("usage", {}).get("output_tokens", 0))
        for e in events
        if e.get("kind") == "model_turn"
    )
    arrow = "▶ " if marker else ""
    ended = record.transitions[-1].at if record.terminal else "…"
    yield (
        f"{arrow}{record.id}  {record.state.value}  cause={record.cause}  "
        f"{record.created_at} → {ended}  {tokens} tokens"
    )
    if record.reason and record.terminal:
        yield f"  reason: {_short(record.reason)}"
    for event in events:
        yield from _event_lines(event)
    yield from _decisions(home, record)


def render_lineage(home: Home, session_id: str) -> str:
    """The whole thread that ``session_id`` belongs to, oldest session first."""
    store = SessionStore(home)
    record = store.load(session_id)
    head = ThreadDir(home, record.thread).head() or session_id
    chain = lineage(store, head)
    if all(s.id != session_id for s in chain):
        chain = lineage(store, session_id)
    lines = [f"thread {record.thread.label()}: {len(chain)} session(s)", ""]
    for item in chain:
        lines.extend(render_session(home, item, marker=item.id == session_id))
        lines.append("")
    return "\n".join(lines)


def render_session_list(rows: list[tuple[str, str, str, str, str]]) -> str:
    """Rows of (id, state, thread, updated, reason) as aligned text."""
    if not rows:
        return "no sessions"
    out = []
    for sid, state, thread, updated, reason in rows:
        out.append(f"{sid}  {state:<17}  {thread:<40}  {updated}  {_short(reason, 60)}")
    return "\n".join(out)
