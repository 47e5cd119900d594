"""A thread's lineage as text a person reads in a terminal or a Slack file.

The same rendering serves ``signoff trace`` and ``/signoff trace``: sessions oldest to
newest, each with its state and reason, then its events — messages, model turns with
tokens, tool calls and results, approvals and their decisions. It is plain text: Slack
shows it inside an escaped code block (``slack_text.code_block``) or as a file.

A parked session's state is final (``awaiting_approval``); ``what_became`` tells the rest:
"awaiting_approval → decided: approved by U0BOB, continued in sess_…".

Each session ends with what became of its replies and cards in Slack, read from the
thread's outbox: "📤 reply posted", "✖ reply not posted: is_archived (Slack refused it for
good)", "📤 reply posted in part (2 of 5): is_archived" (Slack refused its third part for
good), "… reply still waiting to be sent".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from agent_core.history import SessionHistory, SlackWrite, ThreadHistory
from approvals import SYSTEM
from sessions import SessionState, TraceEvent

from .drawn_text import visible
from .slack_answers import PERMANENT
from .terminal_text import printable

__all__ = [
    "delivery_line",
    "render_history",
    "render_session_list",
    "retry_line",
    "tokens_line",
    "turn_tokens",
    "what_became",
]

Names = Callable[[tuple[str, ...]], str]

_MAX_FIELD = 300


def _short(value: object, limit: int = _MAX_FIELD) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _call(arguments: object, limit: int) -> str:
    """A call's arguments as they run: Python's repr escapes a format character but not
    a mark that draws nothing (a variation selector), which ``visible`` shows too; and
    its spaces are kept (repr writes a line break as ``\\n``), "a  b" is not "a b"."""
    if isinstance(arguments, str):  # what a model sent that was no call: as written
        return _short(visible(arguments), limit)
    text = visible(repr(arguments))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clock(at: str) -> str:
    return at[11:23] if len(at) >= 23 else at


def _count(usage: object, field: str) -> int:
    value = usage.get(field, 0) if isinstance(usage, dict) else 0
    return value if isinstance(value, int) else 0


def _input(usage: object) -> int:
    """Every input token of a recorded ``usage``: the prompt cache's writes and reads are
    counted apart from ``input_tokens``, which are only what was not cached."""
    return sum(
        _count(usage, f) for f in ("input_tokens", "cache_write_tokens", "cache_read_tokens")
    )


def tokens_line(usage: object, *, unit: str = "tok") -> str:
    """``12000→50 tok`` for a model turn's usage, with how much came from the cache."""
    line = f"{_input(usage)}→{_count(usage, 'output_tokens')} {unit}"
    read = _count(usage, "cache_read_tokens")
    return f"{line}, {read} from cache" if read else line


def turn_tokens(data: dict[str, object], *, unit: str = "tok") -> str:
    """A ``model_turn``'s tokens; for a reply that came without its usage, the estimate
    the budgets counted instead, said to be one (its usage is not 0 tokens)."""
    if data.get("usage_estimated"):
        estimate = data.get("usage_estimate")
        about = f", about {tokens_line(estimate, unit=unit)} estimated" if estimate else ""
        return f"usage not reported{about}"
    return tokens_line(data.get("usage"), unit=unit)


def retry_line(data: dict[str, object]) -> str:
    """A ``model_error`` that was tried again, in a line ("" for one that ended the call):
    "⟳ anthropic 529 overloaded_error (request-id req_…), attempt 1 of 4, tried again
    after 2.0 s"."""
    retry = data.get("retry")
    if not isinstance(retry, dict):
        return ""
    wait = retry.get("wait_s")
    after = f", tried again after {wait:.1f} s" if isinstance(wait, int | float) else ""
    rid = retry.get("request_id")
    named = f" (request-id {_short(rid, 120)})" if isinstance(rid, str) and rid else ""
    return (
        f"⟳ {retry.get('provider')} {_short(retry.get('reason', ''), 120)}{named}, "
        f"attempt {retry.get('attempt')} of {retry.get('attempts')}{after}"
    )


def _event_lines(event: TraceEvent) -> Iterator[str]:
    kind, data, at = event.kind, event.detail, _clock(event.at)
    if kind == "message":
        yield f"  {at}  💬 <{data.get('user', '?')}> {_short(data.get('text', ''))}"
    elif kind == "model_turn":
        tokens = turn_tokens(data)
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
            yield f"              ↳ {call.get('name')}({_call(args, 160)}){problem}"
    elif kind == "model_error" and retry_line(data):
        yield f"  {at}  {retry_line(data)}"
    elif kind == "tool_started":
        yield f"  {at}  ▶ {data.get('tool')} {_call(data.get('arguments'), 160)}"
    elif kind == "tool_finished":
        yield f"  {at}  ◀ {data.get('status')}: {_short(data.get('content', ''), 200)}"
    elif kind == "approval_requested":
        yield (
            f"  {at}  ✋ approval {data.get('id')}: {data.get('tool')}"
            f"({_call(data.get('arguments'), 120)}) hash {str(data.get('args_sha256', ''))[:12]}"
            f" expires {data.get('expires_at')}"
        )
    elif kind in ("session_started", "session_ended", "reply_queued"):
        return
    else:
        yield f"  {at}  · {kind} {_short(data, 200)}"


def _ids(people: tuple[str, ...]) -> str:
    return ", ".join(people)


def what_became(session: SessionHistory, *, who: Names = _ids) -> str:
    """The session's state, and for one that parked, what became of its requests."""
    record, state = session.record, session.record.state.value
    if record.state is not SessionState.AWAITING_APPROVAL or not session.approvals:
        return state
    parts: list[str] = []
    for item in session.approvals:
        d = item.decision
        named = f"{item.capsule.id} " if len(session.approvals) > 1 else ""
        if d is None:
            parts.append(f"{named}still waiting")
        elif d.deciders == (SYSTEM,):
            parts.append(f"{named}{d.verdict}: nobody decided in time")
        else:
            gone = " (went stale: not run)" if item.stale is not None else ""
            parts.append(f"{named}{d.verdict} by {who(d.deciders)}{gone}")
    if all(item.decision is None for item in session.approvals):
        return f"{state} (no decision yet)"
    text = f"{state} → decided: {'; '.join(parts)}"
    if session.continued_in:
        text += f", continued in {session.continued_in}"
    return text


def reason_still_true(became: str) -> bool:
    """Whether a session's stored reason still holds beside ``what_became``: a parked one's
    ("waiting for appr_…") is over once any of its requests is decided."""
    return " → " not in became


def _approval_lines(session: SessionHistory) -> Iterator[str]:
    for state in session.approvals:
        capsule, decision = state.capsule, state.decision
        if decision is None:
            yield f"  ⏳ {capsule.id} {capsule.tool} pending, expires {capsule.expires_at}"
        else:
            who = ", ".join(decision.deciders)
            why = f": {_short(decision.reason)}" if decision.reason else ""
            told = f", told in {state.told_in}" if state.told_in else ""
            if decision.edit:
                why += (
                    f" [edited before approval: hash {decision.args_sha256[:12]}, "
                    f"asked {capsule.short_hash}]"
                )
            stale = state.stale
            gone = f", went stale at {stale.at}: not run" if stale is not None else ""
            yield (
                f"  ⚖ {capsule.id} {decision.verdict} by {who} at {decision.at}{why}"
                f" ({state.stage.value}{gone}{told})"
            )


def delivery_line(write: SlackWrite) -> str:
    """What became of a reply or card in Slack, in a line: "📤 reply posted" (as text, not
    escaped: the dev trace page escapes it)."""
    approval = write.approval_id
    if write.kind == "card":
        what, done = (
            f"card {approval} ({write.entry_id.removeprefix(f'card-{approval}-')})",
            "shown",
        )
    elif approval:  # signoff's own post about a request: a reminder, an escalation
        what, done = (
            f"{write.entry_id.removesuffix(f'-{approval}')} post about {approval}",
            "posted",
        )
    else:
        what, done = "reply", "posted"
    if write.outcome == "pending":
        return f"… {what} still waiting to be sent"
    if write.outcome == "failed":
        why = " (Slack refused it for good)" if write.error in PERMANENT else ""
        return f"✖ {what} not {done}: {_short(write.error, 200)}{why}"
    found = " (found in Slack after a restart)" if write.outcome == "adopted" else ""
    if write.error:  # landed in part: "posted in part (2 of 5): is_archived"
        return f"📤 {what} {_short(write.error, 200)}{found}"
    return f"📤 {what} {done}{found}"


def _write_line(write: SlackWrite) -> str:
    return f"  {_clock(write.at)}  {delivery_line(write)}"


def _session_lines(session: SessionHistory, *, marker: bool) -> Iterator[str]:
    record, events = session.record, session.events
    turns = [e.detail for e in events if e.kind == "model_turn"]
    tokens = sum(_input(d.get("usage")) + _count(d.get("usage"), "output_tokens") for d in turns)
    guessed = [d.get("usage_estimate") for d in turns if d.get("usage_estimated")]
    estimated = sum(_input(u) + _count(u, "output_tokens") for u in guessed)
    arrow = "▶ " if marker else ""
    ended = record.transitions[-1].at if record.terminal else "…"
    yield (
        f"{arrow}{record.id}  {what_became(session)}  cause={record.cause}  "
        f"{record.created_at} → {ended}  {tokens} tokens"
        + (f" (+ about {estimated} estimated: usage not reported)" if guessed else "")
    )
    if record.shown_reason:
        yield f"  reason: {_short(record.shown_reason)}"
    for event in events:
        yield from _event_lines(event)
    yield from _approval_lines(session)
    yield from map(_write_line, session.writes)


def render_history(history: ThreadHistory) -> str:
    """The whole thread, oldest session first; the asked-for session is marked."""
    lines = [f"thread {history.thread.label()}: {len(history.sessions)} session(s)", ""]
    for session in history.sessions:
        lines.extend(_session_lines(session, marker=session.record.id == history.focus))
        lines.append("")
    return "\n".join(printable(line) for line in lines)


def render_session_list(rows: list[tuple[str, str, str, str, str]]) -> str:
    """Rows of (id, state, thread, updated, reason) as aligned text."""
    if not rows:
        return "no sessions"
    out = []
    for sid, state, thread, updated, reason in rows:
        out.append(f"{sid}  {state:<17}  {thread:<40}  {updated}  {_short(reason, 60)}")
    return "\n".join(printable(line) for line in out)
