"""``/signoff``: trace, sessions, pending, help (design flow 8). Answers are ephemeral."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from slack_bolt.app.async_app import AsyncApp

from agent_core.engine import Engine
from approvals import GroupResolver
from sessions import NotFoundError, SessionsError, check_session_id

from .payloads import SlashCommand
from .slack_surface import SlackSurface
from .trace_view import render_lineage

__all__ = ["HELP", "answer", "register_commands"]

log = logging.getLogger("signoff.commands")

HELP = (
    "*signoff* runs an agent in this channel; risky actions wait for a person's approval.\n"
    "• `/signoff trace [session-id]`: the session lineage of a thread (default: the latest here)\n"
    "• `/signoff sessions`: recent sessions in this channel\n"
    "• `/signoff pending`: requests waiting for *your* decision\n"
    "• `/signoff help`: this text\n"
    "Mention me in a thread to ask for something."
)
INLINE_LIMIT = 2800


async def _pending_for(engine: Engine, groups: GroupResolver, user: str) -> str:
    rows = await engine.rt.index.approvals(status="pending", limit=500)
    mine = []
    for row in rows:
        ids = row.approvers.split()
        allowed = not ids or user in ids
        for group in (i for i in ids if i.startswith("S")):
            allowed = allowed or user in await groups.members(group)
        if allowed and row.requester != user:
            mine.append(row)
    if not mine:
        return "Nothing is waiting for your decision."
    lines = [f"{len(mine)} request(s) waiting for you:"]
    for row in mine[:20]:
        where = f"<#{row.thread.channel}>"
        lines.append(
            f"• `{row.tool}` asked by <@{row.requester}> in {where}, expires {row.expires_at} (`{row.id}`)"
        )
    return "\n".join(lines)


async def _sessions_here(engine: Engine, channel: str) -> str:
    rows = await engine.rt.index.sessions(channel=channel, limit=15)
    if not rows:
        return "No sessions in this channel yet."
    lines = ["Recent sessions here:"]
    for row in rows:
        reason = f" — {row.reason[:80]}" if row.reason else ""
        lines.append(
            f"• `{row.id}` {row.state} (thread {row.thread.thread_ts}, {row.updated_at}){reason}"
        )
    return "\n".join(lines)


async def answer(
    engine: Engine, groups: GroupResolver, command: SlashCommand
) -> tuple[str, str | None]:
    """(short answer, long text to upload or None) for one command."""
    words = command.text.split()
    verb = words[0].lower() if words else "help"
    if verb == "help":
        return HELP, None
    if verb == "sessions" and len(words) == 1:
        return await _sessions_here(engine, command.channel_id), None
    if verb == "pending" and len(words) == 1:
        return await _pending_for(engine, groups, command.user_id), None
    if verb == "trace" and len(words) <= 2:
        if len(words) == 2 and words[1] != "here":
            try:
                session_id = check_session_id(words[1])
            except SessionsError as exc:
                return f"{exc}. Try `/signoff sessions` to see session ids.", None
        else:
            latest = await engine.rt.index.sessions(channel=command.channel_id, limit=1)
            if not latest:
                return "No sessions in this channel yet.", None
            session_id = latest[0].id
        try:
            record = engine.rt.store.load(session_id)
        except NotFoundError:
            return f"No session {session_id}.", None
        if record.thread.channel != command.channel_id:
            # A trace shows the conversation: only where that conversation happened.
            return f"`{session_id}` belongs to another channel; run the command there.", None
        text = render_lineage(engine.rt.home, session_id)
        if len(text) <= INLINE_LIMIT:
            return f"```{text}```", None
        return f"The trace of `{session_id}` is long; it is uploaded as a file here.", text
    return f"I don't know `{command.text[:60]}`. " + HELP.split("\n", 1)[1], None


def register_commands(
    app: AsyncApp, engine: Engine, surface: SlackSurface, groups: GroupResolver
) -> None:
    async def on_command(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        try:
            command = SlashCommand.model_validate(body)
        except ValidationError:
            log.warning("malformed slash command payload")
            return
        short, long_text = await answer(engine, groups, command)
        await respond(text=short, response_type="ephemeral", replace_original=False)
        if long_text is not None:
            await surface.client.files_upload_v2(
                channel=command.channel_id,
                content=long_text,
                filename="signoff-trace.txt",
                title="signoff trace",
                initial_comment=f"Trace requested by <@{command.user_id}>",
            )

    app.command("/signoff")(on_command)
