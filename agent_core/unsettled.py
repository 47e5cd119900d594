"""What a child session must settle, found on disk before ``settle`` resolves it.

- The origin of each call it inherited without a result, read from the lineage: the
  approval that gates it, the intent ticket of a call a crash interrupted, or the result
  ticket a crash kept out of the transcript. A call with none of these never started.
- The approvals whose outcome the thread still waits for outside a result slot: calls
  answered "pending", and any approval the thread holds open that the transcript never
  mentions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from approvals import ApprovalRequest, capsule_ids, load_capsule
from sessions import IntentTicket, ResultTicket, SessionFiles, ThreadDir

from .messages import EventMessage, ToolResultMessage
from .session_run import SessionRun

__all__ = ["Origins", "approvals_to_tell", "scan_origins"]


@dataclass
class Origins:
    approvals: dict[str, ApprovalRequest] = field(default_factory=dict)
    intents: dict[str, IntentTicket] = field(default_factory=dict)
    results: dict[str, ResultTicket] = field(default_factory=dict)


def scan_origins(run: SessionRun, *, wanted: set[str]) -> Origins:
    """Walk the lineage back from the parent until every wanted call id is explained."""
    found = Origins()
    home, clock = run.rt.home, run.rt.clock
    current = run.record.parent_id
    while current is not None and wanted - set(found.approvals) - set(found.intents):
        directory = home.session_dir(current)
        for approval_id in capsule_ids(directory):
            capsule = load_capsule(directory, approval_id)
            if capsule.call_id in wanted:
                found.approvals.setdefault(
                    capsule.call_id, ApprovalRequest(home, capsule, clock=clock)
                )
        for ticket in SessionFiles(directory, clock=clock).read_tickets():
            if not isinstance(ticket, IntentTicket | ResultTicket) or ticket.call_id not in wanted:
                continue
            if isinstance(ticket, IntentTicket) and ticket.approval_id:
                # An approved call interrupted mid-run is still a gated call: settle it
                # through its approval, so its claim, result and "told" stay consistent.
                if ticket.call_id not in found.approvals:
                    found.approvals[ticket.call_id] = ApprovalRequest.open(
                        home, ticket.approval_id, clock=clock
                    )
            elif isinstance(ticket, IntentTicket):
                found.intents.setdefault(ticket.call_id, ticket)
            else:
                found.results.setdefault(ticket.call_id, ticket)
        current = run.rt.store.load(current).parent_id
    return found


def approvals_to_tell(run: SessionRun) -> list[str]:
    """Approvals whose outcome the conversation still waits for, outside a result slot.

    Calls answered "pending" (the thread moved on before the decision), and any approval
    the thread still has open that the transcript never mentions (a safety net: an open
    approval must always end told, or its thread would wake forever).
    """
    ids = [m.approval_id for m in run.pending_placeholders()]
    mentioned = {
        m.approval_id
        for m in run.transcript
        if isinstance(m, ToolResultMessage | EventMessage) and m.approval_id
    }
    for approval_id in ThreadDir(run.rt.home, run.thread).open_approvals():
        fresh = approval_id not in mentioned and approval_id not in ids
        if fresh and not _asked_here(run, approval_id):
            ids.append(approval_id)
    return ids


def _asked_here(run: SessionRun, approval_id: str) -> bool:
    """Is this approval the capsule of a call that now waits in this very session?"""
    return approval_id in capsule_ids(run.files.directory)
