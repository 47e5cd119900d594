"""A turn takes its thread's waiting messages into its session.

Each is recorded in the transcript (and its trace), then marked taken, so it leaves the
inbox only once a session holds it; a crash between the two leaves it waiting *and*
recorded, and the next turn only marks it taken. Each is held while recorded: its
author's edit or deletion lands before it is read, or comes too late (``inbox_edits``).
"""

from __future__ import annotations

from sessions import InboxMessage, ThreadDir, failpoint, held_message, off_loop

from .messages import UserMessage
from .session_run import SessionRun

__all__ = ["record_messages"]


async def record_messages(run: SessionRun, tdir: ThreadDir, pending: list[InboxMessage]) -> None:
    recorded = {m.ts for m in run.transcript if isinstance(m, UserMessage)}
    for waiting in pending:
        async with held_message(tdir.inbox, waiting.key) as message:
            if message is None:
                continue  # deleted by its author while it waited: never answered
            if message.ts not in recorded:
                await run.append(
                    UserMessage(
                        text=message.text,
                        user=message.user,
                        ts=message.ts,
                        user_team=message.user_team,
                    )
                )
                await run.trace("message", message.model_dump(mode="json"))
            failpoint("drain.after_message_recorded")
            await off_loop(tdir.inbox.mark_consumed, message.key)
