"""``signoff show sess_…``: a session's whole transcript, readable in a terminal.

A child's ``transcript.jsonl`` holds only its own lines after a reference to its parent
(docs/storage.md), so ``cat`` shows a part; this follows the references (checking each
link's hash) and prints every record, marking which session holds which lines.
"""

from __future__ import annotations

import json
from typing import Any

from sessions import Home, NotFoundError, SessionFiles, SessionStore, check_session_id

from .cli_read import existing_home
from .terminal_text import printable

__all__ = ["render_transcript", "show_transcript"]

_LINES = "\n\t"  # a transcript's text keeps its lines and tabs


def _indent(text: str) -> str:
    return printable(text, keep=_LINES).replace("\n", "\n      ")


def _raw(value: object) -> str:
    return printable(json.dumps(value, ensure_ascii=False), keep=_LINES)


def _call(call: object) -> str:
    """One tool call as ``name {arguments}``; what is not a call (a transcript someone
    changed, which ``show`` is there to read) is printed as it is, marked so."""
    if not isinstance(call, dict):
        return f"(not a tool call) tool_calls: {_raw(call)}"
    args = call.get("arguments")
    shown = json.dumps(args, ensure_ascii=False) if args is not None else "(unparsed)"
    return f"{printable(str(call.get('name')), keep=_LINES)} {printable(shown, keep=_LINES)}"


def _record(number: int, r: dict[str, Any]) -> list[str]:
    role = r.get("role")
    head = f"[{number}]"
    if role == "user":
        who = f"{r.get('user') or '?'}" + (f" at {r['ts']}" if r.get("ts") else "")
        return [
            f"{head} user {printable(who, keep=_LINES)}:",
            f"      {_indent(str(r.get('text', '')))}",
        ]
    if role == "assistant":
        out = [f"{head} assistant:"]
        if r.get("text"):
            out.append(f"      {_indent(str(r['text']))}")
        calls = r.get("tool_calls") or []
        for call in calls if isinstance(calls, list) else [calls]:
            out.append(f"      → {_call(call)}")
        return out
    if role == "tool":
        # One line each: a line break in them would start what reads as another record.
        name, status = (printable(str(r.get(k, d))) for k, d in (("name", ""), ("status", "ok")))
        title = f"{head} tool result {name} ({status}):"
        return [title, f"      {_indent(str(r.get('content', '')))}"]
    if role == "event":
        return [f"{head} event:", f"      {_indent(str(r.get('text', '')))}"]
    return [f"{head} {_raw(r)}"]


def render_transcript(home: Home, session_id: str) -> str:
    record = SessionStore(home).load(session_id)
    files = SessionFiles(home.session_dir(session_id))
    records = files.read_transcript()
    lines = [
        f"{session_id} ({record.state.value}) in thread {record.thread.label()}: "
        f"{len(records)} transcript record(s)"
    ]
    for owner, first, end in files.transcript_segments():
        where = "this session" if owner == session_id else owner
        lines.append(f"--- records {first + 1}-{end}: {where} ---")
        for index in range(first, end):
            lines.extend(_record(index + 1, records[index]))
    if why := record.shown_reason:  # a turn the model never answered has no record of it
        how = "ended " if record.terminal else ""  # interrupted: the next start goes on
        lines.append(f"--- {how}{record.state.value}: {printable(why)} ---")
    if torn := files.torn_tail():  # read past, as every read does: said, since this is all
        lines.append(f"--- a torn last line of {torn} bytes was left out (an append cut short) ---")
    # Every line once more as a whole: a field the records above did not think of (a
    # tampered status) is still text, not a terminal's escape.
    return "\n".join(printable(line, keep=_LINES) for line in lines)


def show_transcript(home: Home, session_id: str) -> int:
    session_id = check_session_id(session_id)  # a malformed id is the more precise error
    home = existing_home(home)
    if not SessionStore(home).exists(session_id):
        raise NotFoundError(f"no session {session_id}")
    print(render_transcript(home, session_id))
    return 0
