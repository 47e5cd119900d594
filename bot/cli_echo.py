"""What a terminal command prints of what it queued for Slack (the replies, a new card,
the notices), before Slack's share is delivered: the work is said as soon as it is done, and
a Slack that is slow to answer delays only the last.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from agent_core.cancelling import cancel_and_wait
from agent_core.engine import Engine
from approvals import ApprovalsError
from sessions import Home, SessionsError, coordination_for

from .terminal_text import printable

__all__ = ["SLOW_SLACK_S", "QueuedEcho", "said_then_delivered"]

_LINES = "\n"  # what a thread said keeps its lines on the terminal


class QueuedEcho:
    """Prints what a command queued for Slack, so a terminal user sees the answers."""

    def __init__(self, home: Path) -> None:
        self.outbox = coordination_for(Home(home)).outbox
        self.before = {e.id for e in self.outbox.pending()}

    def print_new(self, engine: Engine) -> None:
        """Print what was queued since this echo was made (call before closing ``engine``)."""
        for entry in self.outbox.pending():
            if entry.id in self.before:
                continue
            if entry.kind == "reply":
                print(f"  signoff › {printable(entry.text, keep=_LINES)}")
            # A card's update (a vote, a decision) is said by the command's last line.
            elif entry.kind == "card" and entry.id.endswith("-requested"):
                _print_card(engine, entry.approval_id)
            elif entry.kind == "notice":
                print(f"  (to {printable(entry.user)}) {printable(entry.text, keep=_LINES)}")


# Past this, a terminal waiting on Slack says so: the work itself is done and printed.
SLOW_SLACK_S = 5.0


async def said_then_delivered(engine: Engine, echo: QueuedEcho) -> None:
    """The thread's work (an approved call, the turn after it) done and what it queued
    printed, then Slack's share (the card's update, the replies) delivered: a Slack that
    is slow to answer delays only the last, and the terminal says what it waits for."""
    await engine.idle_workers()
    echo.print_new(engine)
    engine.start_delivery()
    delivered = asyncio.ensure_future(engine.idle())
    try:
        await asyncio.wait({delivered}, timeout=SLOW_SLACK_S)
        if not delivered.done():
            print(
                "  (Slack has not answered yet: waiting for it; what it does not take now, "
                "the bot's sweep posts later)",
                flush=True,
            )
        await delivered
    finally:
        if not delivered.done():  # cancelled from outside (Ctrl-C): not left behind
            await cancel_and_wait(delivered)


def _print_card(engine: Engine, approval_id: str) -> None:
    try:
        c = engine.capsule(approval_id)
    except (SessionsError, ApprovalsError) as exc:
        print(f"  ┌ card {approval_id} (unreadable: {printable(str(exc))})")
        return
    args = ", ".join(f"{k}={v!r}" for k, v in c.arguments.items())
    card = (
        f"  ┌ approval needed: {c.tool}({args})  hash {c.short_hash}",
        f"  │ asked by {c.requester}; {c.policy.describe()}",
        f"  └ expires {c.expires_at}   id {c.id}   (the card is queued for Slack)",
    )
    print("\n".join(map(printable, card)))  # a record's escapes shown, never acted on
