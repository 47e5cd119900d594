"""The audit export: every approval as one record (``audit_record``), read from the files,
never the index.

For each approval (found through ``$SIGNOFF_HOME/approvals/<id>`` pointers): the tool and
its arguments' hash as asked, the edited hash if an approver changed them, who asked, who
may approve (and who was added by escalation), every vote with the hash it approved,
reasons, when it was requested, decided, started and finished, how it ended — and whether
it can be trusted: the requesting session against its seal (``MANIFEST.sha256``), and the
approval's own records against their hashes and, once its outcome is told, their seal
(``audit_checks``). Nothing is written: a tampered or unreadable
approval is reported with its problems, never repaired or skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import ValidationError

from approvals import (
    ApprovalRequest,
    ApprovalsError,
    Origin,
    capsule_ids,
    load_capsule,
    parse_duration,
)
from approvals.records import Pointer
from sessions import (
    Home,
    LockBusyError,
    SessionsError,
    approval_ids,
    check_session_id,
    iter_session_dirs,
    read_file,
    utc_iso,
    verify_session,
)

from .audit_checks import as_applied, integrity, records_seal, told_applied
from .audit_outcome import outcome as call_outcome
from .audit_record import AuditEdit, AuditRecord, AuditVote, Seal

__all__ = ["AuditRecord", "AuditVote", "audit_records", "since_time"]

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def since_time(text: str, now: datetime) -> str:
    """``7d``/``36h`` ago, or a UTC day ``2026-11-01``, as an ``utc_iso`` lower bound
    ("" when the span reaches back before any date: everything). Any span: not the
    policy's durations, which stop at a year."""
    text = text.strip()
    forms = "use a span back such as 36h, 7d or 400d, or a UTC day such as 2026-11-01"
    if _DAY.fullmatch(text):
        try:
            day = datetime.fromisoformat(f"{text}T00:00:00+00:00")
        except ValueError:
            raise ValueError(f"not a day: {text!r} ({forms})") from None
        if day > now:
            # Nothing was requested then yet: the export would be empty and exit 0 every
            # time, so a scheduled check with a mistyped year would always pass.
            raise ValueError(f"{text} has not begun (it is {utc_iso(now)[:10]}, UTC)")
        return utc_iso(day)
    try:
        seconds = parse_duration(text, at_most=None)
    except ValueError:
        raise ValueError(f"not a duration or a day: {text!r} ({forms})") from None
    try:
        return utc_iso(now - timedelta(seconds=seconds))
    except OverflowError:
        return ""


def _team(origin: Origin | None) -> str:
    """The organization a vote or an edit was made from, when another than the
    installation's (only such are recorded); "unknown" when it did not say which."""
    return (origin.team or "unknown") if origin is not None else ""


def _seal(request: ApprovalRequest) -> tuple[Seal, list[str]]:
    """The asking session's seal; a problem when it ended (it parked, so did every session
    whose request was decided) with no seal: its capsule could be changed unseen."""
    try:
        report = verify_session(request.home, request.capsule.session_id)
    except LockBusyError as exc:
        # Found with no seal, then its lock held past the bound (a process stopped while it
        # ended that session): not checked, which is not "ok"; the other requests still are.
        return "not sealed", [f"the requesting session: not checked: {exc}"]
    if not report.sealed:
        return "not sealed", [f"the requesting session: {p}" for p in report.problems]
    return ("ok", []) if report.ok else ("tampered", list(report.problems))


def _record(
    home: Home,
    approval_id: str,
    found_in: Path | None = None,
    *,
    unlisted: bool = False,
    now: datetime | None = None,
) -> AuditRecord:
    """``found_in``: the session a capsule with no pointer was found in; ``unlisted``: its
    pointer's shard could not be listed (so whether it has one is not known); ``now``:
    the time deadlines are judged at."""
    try:
        if found_in is None:
            pointer = Pointer.model_validate_json(read_file(home.pointer_path(approval_id)))
            session_dir = home.session_dir(check_session_id(pointer.session))
        else:
            session_dir = found_in
        capsule = load_capsule(session_dir, approval_id)
    except (OSError, ValidationError, ValueError, SessionsError, ApprovalsError) as exc:
        return AuditRecord(approval_id=approval_id, problems=(f"unreadable: {exc}",))
    request = ApprovalRequest(home, capsule)
    c, rule = capsule, capsule.policy
    base = AuditRecord(
        approval_id=c.id,
        session_id=c.session_id,
        thread=c.thread.label(),
        tool=c.tool,
        tool_version=c.tool_version,
        args_sha256=c.args_sha256,
        requester=c.requester,
        requesters=c.askers,
        approvers=(*rule.approver_users, *rule.approver_groups) or ("anyone",),
        quorum=rule.quorum,
        requested_at=c.created_at,
    )
    seal, seal_problems = _seal(request)
    if unlisted:
        seal_problems.append("its pointer's shard ($SIGNOFF_HOME/approvals/) could not be read")
    elif found_in is not None:
        seal_problems.append("its pointer ($SIGNOFF_HOME/approvals/<id>) is missing")
    try:
        decision = request.decision()
        edits = request.edits()
        votes = [v for n in range(len(edits) + 1) for v in request.votes(n)]
        outcome, executed_at, finished_at = call_outcome(request, decision, now=now)
        reasons = request.reasons(decision) if decision else []
        teller_problems, seen = told_applied(home, request)
        sealed, sealed_problems = records_seal(request, seen)
        return base.model_copy(
            update={
                "edited_sha256": edits[-1].args_sha256 if edits else "",
                "edited_by": tuple(dict.fromkeys(e.user for e in edits)),
                "edits": tuple(
                    AuditEdit(
                        user=e.user,
                        at=e.at,
                        base_sha256=e.base_sha256,
                        args_sha256=e.args_sha256,
                        changed=e.changed,
                        reason=e.reason,
                        team=_team(e.origin),
                    )
                    for e in edits
                ),
                "escalated_to": request.escalated_approvers(),
                "votes": tuple(
                    AuditVote(
                        user=v.user,
                        args_sha256=v.args_sha256 or c.args_sha256,
                        at=v.at,
                        approve=v.approve,
                        reason=v.reason,
                        discounted=v.discounted,
                        team=_team(v.origin),
                    )
                    for v in votes
                    # signoff's own record of approvals a sweep found no longer counting
                    # (by "signoff", as an expiry's decider) is kept: it says why they did not.
                    if v.approve or v.discounted
                ),
                "status": decision.verdict if decision else "pending",
                "deciders": decision.deciders if decision else (),
                "reasons": tuple(f"{u}: {r}" for u, r in reasons),
                "reminders": len(request.reminders()),
                "decided_at": decision.at if decision else "",
                "valid_until": decision.valid_until if decision else "",
                "executed_at": executed_at,
                "finished_at": finished_at,
                "outcome": outcome,
                "seal": seal,
                "records_seal": sealed,
                "problems": tuple(
                    seal_problems
                    + integrity(request, decision)
                    + teller_problems
                    + as_applied(request, decision, seen)
                    + sealed_problems
                ),
            }
        )
    except (OSError, SessionsError, ApprovalsError) as exc:  # OSError: a directory by its name
        return base.model_copy(
            update={"seal": seal, "problems": (*seal_problems, f"unreadable record: {exc}")}
        )


def _why(exc: OSError) -> str:
    return f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")


def _unlisted(session_id: str, exc: OSError) -> AuditRecord:
    """The row of a session whose approvals could not be listed: no approval id (which
    of its requests it holds is what could not be read), flagged unreadable."""
    return AuditRecord(
        approval_id="",
        session_id=session_id,
        problems=(f"its approvals could not be read: {_why(exc)}",),
    )


def _unlisted_shard(shard: Path, exc: OSError, *, what: str = "sessions") -> AuditRecord:
    """The row of a shard of sessions (or of approval pointers) that could not be listed:
    neither an approval id nor a session id (what it holds is what could not be read),
    flagged unreadable."""
    return AuditRecord(
        approval_id="",
        problems=(f"the {what} in {shard} could not be listed: {_why(exc)}",),
    )


def audit_records(
    home: Home, *, since: str = "", now: datetime | None = None
) -> Iterator[AuditRecord]:
    """Every approval requested at or after ``since`` (an ``utc_iso`` time), oldest first;
    with ``now``, an undecided request past its deadline reads expired (the sweep that
    records it needs a bot)."""
    shards: list[AuditRecord] = []  # another user's shard: the rest is exported all the same
    hidden: set[Path] = set()  # shards of pointers not listed: their approvals' are unknown

    def pointers_unlisted(shard: Path, exc: OSError) -> None:
        hidden.add(shard)
        shards.append(_unlisted_shard(shard, exc, what="approval pointers"))

    pointed = approval_ids(home, unlistable=pointers_unlisted)
    records = [_record(home, n, now=now) for n in pointed]
    # A capsule is sealed in its session, its pointer is not: one whose pointer was
    # removed is still exported, and flagged, never silently left out.
    known = set(pointed)
    listed = iter_session_dirs(
        home, unlistable=lambda shard, exc: shards.append(_unlisted_shard(shard, exc))
    )
    for session_id, directory in listed:
        try:
            found = capsule_ids(directory)
        except OSError as exc:  # another user's session: the rest is exported all the same
            records.append(_unlisted(session_id, exc))
            continue
        for approval_id in found:
            if approval_id not in known:
                unlisted = home.pointer_path(approval_id).parent in hidden
                records.append(_record(home, approval_id, directory, unlisted=unlisted, now=now))
    records += shards
    # The time is the capsule's: one flagged whose seal does not vouch for it (changed,
    # unreadable, or removed) may be dated anywhere, so it is never filtered out by it.
    records = [
        r
        for r in records
        if not since
        or not r.requested_at
        or r.requested_at >= since
        or (r.flagged and r.seal != "ok")
    ]
    yield from sorted(records, key=lambda r: (r.requested_at, r.approval_id))
