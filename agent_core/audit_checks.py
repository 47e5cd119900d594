"""Whether one approval's records can be trusted, for the audit export (``audit.py``).

The capsule is covered by the asking session's seal (``MANIFEST.sha256``); the records
written after it are covered twice once the outcome is told: by the approval's own seal
(``approvals.sealing``: every record's hash) and by what the session that told the
outcome applied, in its own sealed trace (``decision_applied``). Before it is told an
approval is open: its records may still change the outcome, and nothing seals them yet.
"""

from __future__ import annotations

from typing import Any, Literal

from approvals import ApprovalRequest, CurrentCall, Decision, HashMismatchError
from approvals.sealing import read_seal, seal_problems
from approvals.vote_files import vote_file_problems
from sessions import (
    CorruptRecordError,
    Home,
    SessionFiles,
    SessionsError,
    check_session_id,
    verify,
)

__all__ = ["RecordsSeal", "as_applied", "integrity", "records_seal", "told_applied"]

# ok: sealed, and every record still matches; open: not told yet (records may still come);
# not sealed: told by a signoff from before these seals; tampered: see the problems;
# unreadable: the approval could not be read as far as its seal.
RecordsSeal = Literal["ok", "open", "not sealed", "tampered", "unreadable"]


def integrity(request: ApprovalRequest, decision: Decision | None) -> list[str]:
    problems: list[str] = []
    try:
        request.verify()
    except HashMismatchError as exc:
        problems.append(str(exc))
    try:
        call: CurrentCall | None = request.current()
    except HashMismatchError:
        call = None
    approved = decision is not None and decision.verdict == "approved"
    if approved and call is not None and decision and decision.args_sha256 != call.args_sha256:
        problems.append("the decision approved a hash that is not the request's arguments")
    if decision is not None and call is not None and decision.edit != call.edit:
        problems.append(
            f"the decision names edit {decision.edit} of the arguments, but they were "
            f"edited {call.edit} time(s)"
        )
    if not approved:
        # A claim, a result or a stale record is written only after an approval. Without
        # one, the approval was removed or turned (with its told record and seal, which
        # makes it read as open): the call that ran must not read as waiting or denied.
        after = [
            name
            for name, record in (
                ("claim", request.claimed()),
                ("result", request.result()),
                ("stale record", request.stale()),
            )
            if record is not None
        ]
        if after:
            problems.append(
                f"it has a {', a '.join(after)}, written only once a call is approved, "
                f"but its decision is {decision.verdict if decision else 'missing'}: "
                "not approved"
            )
    # A vote held under another's name counts for nobody; it was not written by signoff.
    problems += vote_file_problems(request.session_dir, request.id)
    told = request.told()
    if decision is None and told is not None:
        # Only a decided request is told: its decision was removed.
        problems.append(f"its outcome was told in {told.session_id}, but it has no decision")
    return problems


def told_applied(home: Home, request: ApprovalRequest) -> tuple[list[str], dict[str, Any] | None]:
    """What the session that told the outcome applied (its last ``decision_applied`` of
    this approval; None when not told, or not found), and what is wrong with that session."""
    told = request.told()
    if told is None:
        return [], None
    teller = home.session_dir(check_session_id(told.session_id))
    try:
        report = verify(teller)
        events = SessionFiles(teller).read_trace()
    except (OSError, SessionsError) as exc:
        return [f"{told.session_id}, which told the outcome, cannot be read: {exc}"], None
    problems = [f"{told.session_id}, which told the outcome: {p}" for p in report.problems]
    applied = [
        e.detail
        for e in events
        if e.kind == "decision_applied" and e.detail.get("approval_id") == request.id
    ]
    if not applied:
        return [*problems, f"{told.session_id}, which told the outcome, has no record of it"], None
    return problems, applied[-1]


def as_applied(
    request: ApprovalRequest, decision: Decision | None, seen: dict[str, Any] | None
) -> list[str]:
    """The decision is written after the asking session's seal; the session that told its
    outcome recorded what it applied (``seen``) in its own trace, sealed when that session
    ended. A decision changed afterwards no longer matches it."""
    if decision is None or seen is None:
        return []
    reasons = [{"user": u, "reason": r} for u, r in request.reasons(decision)]
    differs = [
        name
        for name, key, now in (
            ("verdict", "verdict", decision.verdict),
            ("deciders", "by", list(decision.deciders)),
            ("hash", "args_sha256", decision.args_sha256),
            # What people gave as reasons (the decision's, the votes', the edit's) and the
            # edit and the deadline approved; a session from before them did not record them.
            ("reasons", "reasons", reasons),
            ("edit", "edit", decision.edit),
            ("valid_until", "valid_until", decision.valid_until),
        )
        if key in seen or name in ("verdict", "deciders", "hash")
        if seen.get(key) != now
    ]
    if not differs:
        return []
    told = request.told()
    teller = told.session_id if told else "the session that told it"
    return [f"the decision's {', '.join(differs)} differs from what {teller} applied and told"]


def records_seal(
    request: ApprovalRequest, seen: dict[str, Any] | None
) -> tuple[RecordsSeal, list[str]]:
    """The approval's own seal: whether its records are still what they were when its
    outcome was told. ``seen``: what the teller applied, which says whether it sealed."""
    approvals = request.session_dir / "approvals"
    try:
        sealed = read_seal(approvals, request.id)
    except CorruptRecordError as exc:
        return "tampered", [f"its seal cannot be read: {exc}"]
    if sealed is not None:
        problems = seal_problems(approvals, request.id, sealed)
        return ("tampered" if problems else "ok"), problems
    told = request.told()
    if told is None:
        return "open", []
    if seen is not None and seen.get("seal_follows"):
        # The teller's sealed trace says it sealed the records when it told them (or a
        # crash came in between, and no process has told it again since).
        return "tampered", [
            f"{request.id}.sealed.json is missing, though {told.session_id} told the "
            "outcome and seals what it tells (or it crashed first, not recovered yet)"
        ]
    return "not sealed", []
