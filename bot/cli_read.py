"""The read-only commands: ``sessions``, ``pending``, ``trace``, ``quarantine`` (``verify``:
``cli_verify``).

They look at a home that exists and create nothing: a mistyped ``SIGNOFF_HOME`` is
reported, not answered with an empty list from a fresh ``.signoff``.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys

from agent_core.card_entries import card_view
from agent_core.engine import Engine
from agent_core.history import decisions_of, thread_history
from approvals import ApprovalRequest, ApprovalsError, Policy
from sessions import (
    ApprovalRow,
    CorruptRecordError,
    Home,
    Index,
    Quarantine,
    QuarantineRecord,
    ReadOnlyHomeError,
    SessionRow,
    SessionsError,
    SessionState,
    SystemClock,
    can_write,
    check_session_id,
    open_index_read_only,
    out_of_room,
    utc_iso,
)

from .cards import ANYONE
from .cli_edited import edited_text
from .config import ConfigError
from .terminal_text import printable
from .trace_view import reason_still_true, render_history, render_session_list, what_became

__all__ = ["existing_home", "list_index", "show_quarantine", "show_trace"]


def existing_home(home: Home) -> Home:
    """``home`` if it is a directory; otherwise a ConfigError that says so."""
    if not home.root.exists():
        raise ConfigError(
            f"no signoff home at {home.root} (set SIGNOFF_HOME; `signoff say`, `run` or "
            "`dev` create one)"
        )
    if not home.root.is_dir():
        raise ConfigError(f"SIGNOFF_HOME {home.root} is not a directory")
    # signoff.toml: the config's default place, there before a first `run`.
    marks = ("index.sqlite3", "sessions", "threads", "signoff.toml")
    if not any((home.root / name).exists() for name in marks):
        # A mistyped SIGNOFF_HOME=$HOME: say so rather than write an index into it.
        raise ConfigError(f"SIGNOFF_HOME {home.root} is not a signoff home (no sessions in it)")
    return home


_PENDING_SHOWN = 500


def _opened(home: Home, approval_id: str) -> ApprovalRequest | None:
    try:
        return ApprovalRequest.open(home, approval_id)
    except (SessionsError, ApprovalsError, OSError):  # unreadable: as the index has it
        return None


def _decided(request: ApprovalRequest | None) -> bool:
    """Decided on disk, though its row says pending: the index lags the files by a step
    after a crash, until a bot or ``signoff recover`` carries the thread on."""
    try:
        return request is not None and request.decision() is not None
    except (SessionsError, ApprovalsError, OSError):
        return False


def _so_far(request: ApprovalRequest | None, policy: Policy | None) -> str:
    """ "  1 of 2 approvals: U0BOB", as the card says it (quorum > 1), or ""."""
    if request is None:
        return ""
    try:
        view = card_view(request, policy)
    except (SessionsError, ApprovalsError, OSError):  # unreadable: as the index has it
        return ""
    if view.needed <= 1:
        return ""
    voters = f": {printable(' '.join(view.voters))}" if view.voters else ""
    return f"  {len(view.voters)} of {view.needed} approvals{voters}"


def _listed(home: Home, row: SessionRow) -> tuple[str, str, str, str, str]:
    """A row as ``/signoff sessions`` says it: a parked session's state says what became of
    its requests, and its stored "waiting for appr_…" goes once one is decided (the index
    keeps the state it parked in, which is final)."""
    state, reason = row.state, row.reason
    if state == SessionState.AWAITING_APPROVAL.value:
        try:
            state = what_became(decisions_of(home, row.id))
        except (SessionsError, ApprovalsError, OSError):  # unreadable: as the index has it
            pass
        if not reason_still_true(state):
            reason = ""
    return row.id, state, row.thread.label(), row.updated_at, reason


async def _opened_index(home: Home) -> Index:
    """The index opened the usual way; on a full disk, which that cannot do (it sizes the
    ``-shm`` file), read only: an operator looks at what waits just when the bot is stuck."""
    try:
        return await Engine.open_index(home)
    except (sqlite3.Error, OSError):
        if not out_of_room(home.root):
            raise
    try:
        return await open_index_read_only(home)
    except ReadOnlyHomeError as exc:
        raise ConfigError(
            f"the file system of SIGNOFF_HOME {home.root} is full, and its index cannot be "
            f"read without writing ({exc.__cause__ or exc}): make room, then run this again"
        ) from None


async def list_index(home: Home, args: argparse.Namespace, *, policy: Policy | None = None) -> int:
    """``policy`` (``pending``): the rules in force, which count a quorum's votes."""
    # A home this process cannot write (a snapshot, another user's) is read as it is: the
    # usual opening writes (its lock, the schema, a migration or a rebuild of the index).
    home = existing_home(home)
    index = await (_opened_index(home) if can_write(home) else open_index_read_only(home))
    try:
        if args.command == "sessions":
            rows = await index.sessions(states=args.state, limit=args.limit)
            print(render_session_list([_listed(home, r) for r in rows]))
            return 0
        # A request past its deadline waits for nothing: no vote counts after it, and only
        # a sweep has yet to record it (/signoff pending and the Home leave it out too).
        now, more = utc_iso(SystemClock().now()), False
        pending: list[tuple[ApprovalRow, ApprovalRequest | None]] = []
        async for row in index.iter_approvals(status="pending"):
            if row.expires_at > now:
                request = _opened(home, row.id)
                if _decided(request):
                    continue
                more = len(pending) == _PENDING_SHOWN
                if more:
                    break
                pending.append((row, request))
        if not pending:
            print("nothing is waiting for a decision")
        for a, request in pending:
            who = a.approvers or f"{ANYONE} but the requester"
            # As the files have it: a tampered one's escapes are shown, never acted on.
            line = (
                f"{a.id}  {a.tool:<16} requested by {a.requester}  approvers: {who}  "
                f"expires {a.expires_at}  session {a.session_id}"
            )
            print(printable(line) + _so_far(request, policy) + edited_text(request))
        if more:
            print(f"… and more: these are the first {_PENDING_SHOWN} (oldest first)")
    finally:
        await index.close()
    return 0


def show_trace(home: Home, session_id: str) -> int:
    session_id = check_session_id(session_id)  # a malformed id is the more precise error
    print(render_history(thread_history(existing_home(home), session_id)))
    return 0


def _line(record: QuarantineRecord) -> str:
    # Every field as text, its id and time too: the record is a file anyone may have edited.
    event = f"  {record.event_id}" if record.event_id else ""
    return printable(f"{record.id}  {record.at}  {record.source:<14}{event}  {record.reason}")


def show_quarantine(home: Home, args: argparse.Namespace) -> int:
    quarantine = Quarantine(existing_home(home), clock=SystemClock())
    if args.item:
        record = quarantine.get(args.item)
        print(_line(record))
        payload = record.payload if record.excerpt == "" else record.excerpt
        print(json.dumps(payload, indent=2, ensure_ascii=True, sort_keys=True))
        return 0
    shown, corrupt = 0, list[CorruptRecordError]()
    for record in quarantine.records(day=args.day, on_corrupt=corrupt.append):
        if shown == args.limit:
            print(f"… more; see {home.quarantine_dir} or use --day / --limit")
            break
        print(_line(record))
        shown += 1
    # A record that does not parse is still there: "nothing" would contradict its warning.
    print(f"{shown} item(s)" if shown or corrupt else "nothing is quarantined")
    for exc in corrupt:  # the rest is still listed; these are a problem to look at
        print(f"signoff: {exc} (skipped)", file=sys.stderr)
    return 1 if corrupt else 0
