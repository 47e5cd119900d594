"""Where a gated call's card goes, decided at the gate, before anything is parked.

In a channel (public or private) the card goes into the thread that asked. A direct
message with signoff has no approvers in it: the card goes to ``SIGNOFF_APPROVALS_CHANNEL``
(``Runtime.approvals_channel``) with a link back, and without that setting the call is
refused at once, as a result the model relays ("ask in a channel"), so nothing waits on a
card nobody could see.

Slack names direct-message conversations ``D…``; channels and private channels are
``C…`` (or ``G…`` for private channels made before 2021). A group DM (``G…``) is a room
with people in it: its card goes into its thread, as in a private channel.

The same holds for a card nobody could complete: a quorum the requester's exclusion puts
out of reach (``approvals.unreachable_quorum``) is refused at the gate, not left to expire.
"""

from __future__ import annotations

from approvals import unreachable_quorum
from sessions import ThreadKey

from .messages import ToolResultMessage
from .runtime import Runtime
from .session_run import SessionRun

__all__ = [
    "card_channel",
    "is_direct_message",
    "needs_a_channel",
    "out_of_reach",
    "refused_at_gate",
]


def is_direct_message(channel: str) -> bool:
    return channel.startswith("D")


def card_channel(rt: Runtime, thread: ThreadKey) -> str | None:
    """ "" for the thread itself, a channel id, or None: approvals cannot be asked here."""
    if not is_direct_message(thread.channel):
        return ""
    return rt.approvals_channel or None


def needs_a_channel(*, call_id: str, tool: str, args_sha256: str) -> ToolResultMessage:
    """The result of a gated call asked where no approver could see its card."""
    text = (
        f"not run: {tool} needs a person's approval, and approvals cannot be asked in a "
        "direct message here (no approvals channel is configured). Tell the person to ask "
        "again in a channel where signoff is, where an approver can decide; an operator can "
        "set SIGNOFF_APPROVALS_CHANNEL to take such requests from direct messages. "
        "Do not retry this call here."
    )
    return ToolResultMessage(
        call_id=call_id, name=tool, content=text, status="refused", args_sha256=args_sha256
    )


def out_of_reach(*, call_id: str, tool: str, args_sha256: str, why: str) -> ToolResultMessage:
    """The result of a gated call whose quorum its own requesters put out of reach."""
    text = (
        f"not run: {tool} needs a person's approval, and this request could never be "
        f"approved: {why}. Nothing was asked of anyone. Tell the person that someone who "
        "is not among its approvers must ask for it, or an operator must change the "
        "policy. Do not retry this call here."
    )
    return ToolResultMessage(
        call_id=call_id, name=tool, content=text, status="refused", args_sha256=args_sha256
    )


def refused_at_gate(
    run: SessionRun, *, call_id: str, tool: str, digest: str
) -> ToolResultMessage | None:
    """The result of a gated call no card could serve here, or None: ask for approval."""
    if card_channel(run.rt, run.thread) is None:
        return needs_a_channel(call_id=call_id, tool=tool, args_sha256=digest)
    why = unreachable_quorum(run.rt.policy.rule_for(tool), requesters=run.requesters)
    if why is not None:
        return out_of_reach(call_id=call_id, tool=tool, args_sha256=digest, why=why)
    return None
