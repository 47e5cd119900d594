"""Observer events as log lines: what an operator reads when something went wrong.

INFO carries the life of a request (message stored, approval requested, card posted,
decision, tool executed, reply posted, session state); WARNING what needs a look (Slack
API errors and rate limits, model errors, dropped or quarantined input, a lost link);
DEBUG the rest (acks, duplicates, other threads' chatter, every successful API call).
"""

from __future__ import annotations

import logging

from agent_core.observe import (
    ApprovalExpired,
    ApprovalRequested,
    CallsOverCap,
    CardPosted,
    CardUpdated,
    DecisionRecorded,
    EnvelopeAcked,
    Event,
    MessageStored,
    ModelCall,
    OutboxDepth,
    ReplyPosted,
    SessionStateChanged,
    SlackApiCall,
    SocketLinkChanged,
    ToolExecuted,
    VoteRecorded,
)

from .logs import log_event

__all__ = ["EventLog"]

_MESSAGE_LEVEL = {
    "stored": logging.INFO,
    "duplicate": logging.DEBUG,
    "ignored": logging.DEBUG,
    "dropped": logging.WARNING,
    "quarantined": logging.WARNING,
    "handled": logging.DEBUG,
    "deferred": logging.WARNING,
}


class EventLog:
    """An ``Observer`` that writes one structured record per event to ``signoff.events``."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.log = logger or logging.getLogger("signoff.events")

    def emit(self, event: Event) -> None:
        log = self.log
        match event:
            case MessageStored():
                log_event(
                    log,
                    f"message_{event.outcome}",
                    level=_MESSAGE_LEVEL[event.outcome],
                    thread=event.thread,
                    event_type=event.event_type,
                    event_id=event.event_id or None,
                    reason=event.reason or None,
                )
            case EnvelopeAcked():
                log_event(
                    log,
                    "envelope_acked",
                    level=logging.DEBUG,
                    envelope_type=event.envelope_type,
                    ms=round(event.seconds * 1000, 2),
                )
            case SocketLinkChanged():
                quiet = event.up or event.reason == "stopping"
                log_event(
                    log,
                    "socket_handover"
                    if event.handover
                    else "socket_up"
                    if event.up
                    else "socket_down",
                    level=logging.INFO if quiet else logging.WARNING,
                    reason=event.reason,
                )
            case ApprovalRequested():
                log_event(
                    log,
                    "approval_requested",
                    thread=event.thread,
                    session_id=event.session_id,
                    approval_id=event.approval_id,
                    tool=event.tool,
                    requester=event.requester,
                )
            case CardPosted():
                log_event(
                    log,
                    "card_posted",
                    thread=event.thread,
                    session_id=event.session_id,
                    approval_id=event.approval_id,
                    tool=event.tool,
                    card_ts=event.ts or None,
                )
            case CardUpdated():
                log_event(
                    log,
                    "card_updated",
                    level=logging.DEBUG,
                    thread=event.thread,
                    approval_id=event.approval_id,
                    shows=event.version,
                )
            case DecisionRecorded():
                log_event(
                    log,
                    "decision",
                    thread=event.thread,
                    session_id=event.session_id,
                    approval_id=event.approval_id,
                    tool=event.tool,
                    user=event.user,
                    verdict=event.verdict,
                    wait_s=round(event.wait_seconds, 3),
                )
            case VoteRecorded():
                log_event(
                    log,
                    "vote",
                    thread=event.thread,
                    session_id=event.session_id,
                    approval_id=event.approval_id,
                    tool=event.tool,
                    user=event.user,
                )
            case ApprovalExpired():
                log_event(
                    log,
                    "approval_expired",
                    thread=event.thread,
                    session_id=event.session_id,
                    approval_id=event.approval_id,
                    tool=event.tool,
                    wait_s=round(event.wait_seconds, 3),
                )
            case ToolExecuted():
                log_event(
                    log,
                    "tool_executed",
                    level=logging.INFO if event.outcome == "ok" else logging.WARNING,
                    thread=event.thread,
                    session_id=event.session_id,
                    approval_id=event.approval_id,
                    tool=event.tool,
                    outcome=event.outcome,
                    ms=round(event.ms, 1),
                )
            case CallsOverCap():
                log_event(
                    log,
                    "tool_calls_over_cap",
                    level=logging.WARNING,  # a model that asks for this many wants a look
                    thread=event.thread,
                    session_id=event.session_id,
                    calls=len(event.tools),
                    cap=event.cap,
                )
            case ReplyPosted():
                log_event(
                    log,
                    "reply_posted",
                    thread=event.thread,
                    session_id=event.session_id,
                    parts=event.parts,
                )
            case SlackApiCall():
                if event.outcome == "ok":
                    log_event(log, "slack_api_call", level=logging.DEBUG, method=event.method)
                else:
                    log_event(
                        log,
                        "slack_ratelimited"
                        if event.outcome == "ratelimited"
                        else "slack_api_error",
                        level=logging.WARNING,
                        channel=event.channel or None,
                        thread_ts=event.thread_ts or None,
                        message_ts=event.ts or None,  # "ts" is the line's own time
                        method=event.method,
                        error=event.error,
                    )
            case ModelCall():
                log_event(
                    log,
                    "model_error" if event.outcome == "error" else "model_call",
                    level=logging.WARNING if event.outcome == "error" else logging.DEBUG,
                    thread=event.thread,
                    session_id=event.session_id or None,
                    provider=event.provider,
                    outcome=event.outcome,
                    input_tokens=event.input_tokens,
                    output_tokens=event.output_tokens,
                    cache_write_tokens=event.cache_write_tokens or None,
                    cache_read_tokens=event.cache_read_tokens or None,
                    usd=event.usd,
                    error=event.error or None,
                    usage_reported=None if event.usage_reported else False,
                )
            case SessionStateChanged():
                log_event(
                    log,
                    "session_state",
                    thread=event.thread,
                    session_id=event.session_id,
                    state=event.state,
                    reason=event.reason or None,
                )
            case OutboxDepth():
                log_event(log, "outbox_depth", level=logging.DEBUG, depth=event.depth)
