"""One approval's row in the audit export (``signoff audit``): its field names are stable
and versioned (``schema_version``), as an auditor's tools read them; ``audit.py`` fills
them from the files.
"""

from __future__ import annotations

from typing import Literal

from sessions import Record

from .audit_checks import RecordsSeal

__all__ = ["AuditEdit", "AuditRecord", "AuditVote", "Seal"]

Seal = Literal["ok", "tampered", "not sealed", "unreadable"]


class AuditVote(Record):
    user: str
    args_sha256: str
    at: str
    # False for signoff's own record of approvals a sweep found no longer counting: it
    # approves nothing, and an auditor's tool must not count it as an approval.
    approve: bool = True
    reason: str = ""
    # Earlier approvers this vote found the rules no longer allowed: they did not count.
    discounted: tuple[str, ...] = ()
    # The organization the vote was cast from when another than the installation's (a
    # Slack Connect guest's, as the vote recorded it); "" for the installation's own.
    team: str = ""


class AuditEdit(Record):
    """An approver's edit of the arguments: their approval of the edited call."""

    user: str
    at: str
    base_sha256: str  # the arguments they were shown and changed
    args_sha256: str  # the arguments they approved
    changed: tuple[str, ...]  # the arguments' names
    reason: str = ""
    # As a vote's (``AuditVote.team``): a Slack Connect guest's organization, else "".
    team: str = ""


class AuditRecord(Record):
    """One approval in the export (``signoff audit``): stable field names, versioned."""

    schema_version: Literal[1] = 1
    approval_id: str  # "": a session (or a shard) whose approvals could not be read
    session_id: str = ""
    thread: str = ""
    tool: str = ""
    tool_version: str = ""
    args_sha256: str = ""  # as the model asked
    edited_sha256: str = ""  # the arguments approved after an edit ("" when not edited)
    edited_by: tuple[str, ...] = ()
    edits: tuple[AuditEdit, ...] = ()  # each edit in order (``edited_by`` names their authors)
    requester: str = ""
    requesters: tuple[str, ...] = ()
    approvers: tuple[str, ...] = ()
    escalated_to: tuple[str, ...] = ()
    quorum: int = 0
    votes: tuple[AuditVote, ...] = ()
    status: str = ""  # pending, approved, denied, expired
    deciders: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()  # "<user>: <reason>"
    reminders: int = 0
    requested_at: str = ""
    decided_at: str = ""
    valid_until: str = ""
    executed_at: str = ""  # when the approved call was claimed (started)
    finished_at: str = ""
    outcome: str = ""
    seal: Seal = "unreadable"  # the asking session's, which covers the capsule
    records_seal: RecordsSeal = "unreadable"  # the approval's own, once told: its records
    problems: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        bad = ("tampered", "unreadable")
        return bool(self.problems) or self.seal in bad or self.records_seal in bad
