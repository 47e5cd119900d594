"""``signoff audit``: every approval as JSON lines or CSV, for auditors and their tools.

Read-only: the records come from ``agent_core.audit`` (the files, not the index), and the
home is neither created nor changed. Exit status 1 when an approval is flagged — its
session does not verify against its seal, or its records do not match their hashes or,
once its outcome was told, their own seal, or they could not be read (a session whose
``approvals/`` cannot be listed is a row with no approval id, and a warning; a shard of
sessions or of approval pointers that cannot be listed, a row with no session id
either) — so
a scheduled export doubles as a check; a one-line summary goes to stderr.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from typing import Any

from agent_core.audit import AuditRecord, audit_records, since_time
from sessions import Home, SystemClock

from .cli_read import existing_home
from .config import ConfigError
from .terminal_text import printable, printable_json

__all__ = ["CSV_COLUMNS", "run_audit"]

CSV_COLUMNS = [name for name in AuditRecord.model_fields if name != "schema_version"]


_UTF8 = ("utf-8", "utf8")

# A cell a spreadsheet reads as a formula starts with one of these (a tab or a carriage
# return before one too): the export is opened by auditors, of homes that may be tampered.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _inert(text: str) -> str:
    """``text`` as a spreadsheet shows it, never evaluates it: a leading quote, which it
    does not display, before a cell that would be a formula; control characters written
    out as text (ESC as a backslash, x1b), as the JSON lines export escapes them: an escape
    sequence in a tampered record would drive the terminal of an auditor who reads it there."""
    text = "'" + text if text.startswith(_FORMULA) else text
    return printable(text, keep="\n\t")


def _item(text: str) -> str:
    """An item of a list cell, whose items are joined by "; ": one holding a ";" (a reason
    is people's text) as a JSON string with its ";" escaped too, so that no reason reads as
    one more approver's reason or vote, even to a reader that splits the cell at "; "."""
    if ";" not in text:
        return text
    return printable_json(json.dumps(text, ensure_ascii=False)).replace(";", "\\u003b")


def _who(value: dict[str, Any]) -> str:
    """A vote's or an edit's author, with the organization of a Slack Connect guest."""
    return f"{value['user']} of {value['team']}" if value.get("team") else str(value["user"])


def _cell(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "; ".join(_item(_cell(v)) for v in value)
    if isinstance(value, dict) and "changed" in value:
        # An edit: who approved which hash, when, changing what from which (and why).
        who = _who(value)
        why = f" ({value['reason']})" if value.get("reason") else ""
        changed = ", ".join(map(str, value["changed"]))
        return (
            f"{who}@{str(value['args_sha256'])[:12]} {value['at']}: from "
            f"{str(value['base_sha256'])[:12]} changed {changed}{why}"
        )
    if isinstance(value, dict):
        # A vote: who approved which hash, when (and why); or signoff's record that earlier
        # approvals no longer count, which approves nothing and so names no hash.
        gone = " ".join(map(str, value.get("discounted") or ()))
        if not value.get("approve", True):
            return f"{value['user']} {value['at']}: no longer counting {gone}"
        why = f" ({value['reason']})" if value.get("reason") else ""
        others = f" [no longer counting: {gone}]" if gone else ""
        who = _who(value)
        return f"{who}@{str(value['args_sha256'])[:12]} {value['at']}{why}{others}"
    return str(value)


def run_audit(home: Home, args: argparse.Namespace) -> int:
    now = SystemClock().now()
    try:
        since = since_time(args.since, now) if args.since is not None else ""
    except ValueError as exc:
        raise ConfigError(f"--since: {exc}") from None
    records = list(audit_records(existing_home(home), since=since, now=now))
    out = sys.stdout
    if args.format == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for record in records:
            data = record.model_dump(mode="json")
            writer.writerow([_inert(_cell(data[c])) for c in CSV_COLUMNS])
    else:
        # Where stdout is not UTF-8, JSON's own escapes (\ud83d\uded1), not Python's.
        ascii_only = (getattr(out, "encoding", None) or "utf-8").lower() not in _UTF8
        for record in records:
            line = json.dumps(record.model_dump(mode="json"), ensure_ascii=ascii_only)
            out.write(printable_json(line) + "\n")
    for record in records:
        if not record.approval_id:  # a session or shard it could not read: said as well
            what = f"session {record.session_id}: " if record.session_id else ""
            sys.stderr.write(
                printable(f"signoff: warning: {what}{record.problems[0]}")
                + "; exported as unreadable\n"
            )
    # A shard it could not list is named in its warning; it has no id for the list.
    flagged = [r.approval_id or r.session_id for r in records if r.flagged]
    sessions = sum(1 for r in records if not r.approval_id and r.session_id)
    shards = sum(1 for r in records if not r.approval_id and not r.session_id)
    summary = f"audit: {len(records) - sessions - shards} approval(s)"
    summary += f", {sessions} session(s) unreadable" if sessions else ""
    summary += f", {shards} shard(s) unreadable" if shards else ""
    named = [f for f in flagged if f]
    if named:
        summary += f", {len(named)} flagged: {', '.join(named[:10])}"
    print(summary, file=sys.stderr)
    return 1 if flagged else 0
