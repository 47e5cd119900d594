"""Where a gated call's card goes, decided at the gate, before anything is parked.

In a channel (public or private) the card goes into the thread that asked. A direct
message with signoff has no approvers in it: the card goes to ``SIGNOFF_APPROVALS_CHANNEL``
(``Runtime.approvals_channel``) with a link back, and without that setting the call is
refused at once, as a result the model relays ("ask in a channel"), so nothing waits on a
card nobody could see.

Slack names direct-message conversations ``D…``; channels and private channels are
``C…`` (or ``G…`` for private channels made before 2021). A group DM (``G…``) is a room
with people in it: its card goes into its thread, as in a private channel.
"""

from __future__ import annotations

from sessions import ThreadKey

from .messages import ToolResultMessage
from .runtime import Runtime

__all__ = ["card_channel", "is_direct_message", "needs_a_channel"]


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
