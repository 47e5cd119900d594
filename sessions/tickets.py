"""Tickets: one create-only file per side effect, before and after it.

An intent ticket is written before a tool runs and a result ticket after it, so a crash in
between is visible as an intent without a result: *uncertain*, never re-run on its own.
Recovery decides from these types, not from dictionary keys.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from .records import Record

__all__ = ["IntentTicket", "ResultTicket", "Ticket", "TicketStatus", "ticket_adapter"]

TicketStatus = Literal["ok", "error", "uncertain"]


class IntentTicket(Record):
    schema_version: Literal[1] = 1
    kind: Literal["intent"] = "intent"
    at: str
    call_id: str
    tool: str
    args_sha256: str
    # Set for an approved call: its capsule, so recovery settles it through the approval.
    approval_id: str = ""


class ResultTicket(Record):
    schema_version: Literal[1] = 1
    kind: Literal["result"] = "result"
    at: str
    call_id: str
    tool: str
    status: TicketStatus
    content: str


class _LegacyReplyTicket(Record):
    """Written by versions before the outbox; read (and ignored) so old homes still load."""

    schema_version: Literal[1] = 1
    kind: Literal["reply", "reply-sent"]
    at: str
    text: str = ""
    ticket: str = ""


Ticket = Annotated[IntentTicket | ResultTicket | _LegacyReplyTicket, Field(discriminator="kind")]
ticket_adapter: TypeAdapter[Ticket] = TypeAdapter(Ticket)
