"""``/signoff``: trace, sessions, pending, help (design flow 8). Answers are ephemeral.

``pending`` is answered by ``commands_pending``. Every answer is rendered by
``slack_text``.
"""

from __future__ import annotations

import html
import logging
from typing import Any

from pydantic import ValidationError
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from agent_core.engine import Engine
from agent_core.history import ThreadHistory
from approvals import MembershipUnknown
from sessions import (
    NotFoundError,
    SessionsError,
    SessionState,
    SignoffError,
    check_session_id,
    off_loop,
)

from .commands_pending import pending_for
from .listeners import failure, guarded, respond_ephemeral
from .membership import ChannelMembers
from .payloads import SlashCommand
from .slack_errors import slack_error
from .slack_fields import shown
from .slack_text import (
    Mrkdwn,
    channel_link,
    code_block,
    escape,
    file_text,
    join,
    literal,
    mention,
    mentions,
)
from .trace_view import reason_still_true, render_history, what_became
from .user_teams import Origins

__all__ = ["COMMAND", "HELP", "answer", "register_commands"]

log = logging.getLogger("signoff.commands")

# Its listener answers by response_url only, never on the ack: ``socket`` acks it first.
COMMAND = "/signoff"
HELP = literal(
    "*signoff* runs an agent in this channel; risky actions wait for a person's approval.\n"
    "• `/signoff trace [session-id]`: the session lineage of a thread (default: the latest here)\n"
    "• `/signoff sessions`: recent sessions in this channel\n"
    "• `/signoff pending`: requests waiting for *your* decision\n"
    "• `/signoff help`: this text\n"
    "Mention me in a thread to ask for something."
)
INLINE_LIMIT = 2800


def _parked(history: ThreadHistory) -> Mrkdwn:
    """What became of the thread's parked sessions, with mentions (the code block has ids)."""
    lines = [
        join(literal(f"`{s.record.id}` "), literal(what_became(s, who=mentions)))
        for s in history.sessions
        if s.record.state is SessionState.AWAITING_APPROVAL and s.approvals
    ]
    return join(*lines, sep="\n")


def _rendered(history: ThreadHistory) -> tuple[str, Mrkdwn]:
    """The trace as text (to upload) and as the code block it would be inline."""
    text = render_history(history)
    return text, code_block(text)


async def _sessions_here(engine: Engine, channel: str) -> Mrkdwn:
    rows = await engine.sessions(channel=channel, limit=15)
    if not rows:
        return literal("No sessions in this channel yet.")
    lines = [literal("Recent sessions here:")]
    for row in rows:
        became = ""
        if row.state == SessionState.AWAITING_APPROVAL.value:
            # Its state is final: say what became of its requests, as the trace does.
            try:
                became = what_became(await engine.decisions_of(row.id), who=mentions)
            except SignoffError as exc:
                log.warning("sessions: cannot read %s: %s", row.id, exc)
        line = join(
            literal(f"• `{row.id}` "),
            literal(became or row.state),
            literal(f" (thread {row.thread.thread_ts}, {row.updated_at})"),
        )
        if row.reason and reason_still_true(became):
            line = join(line, literal(" — "), escape(row.reason[:80]))
        lines.append(line)
    return join(*lines, sep="\n")


async def _elsewhere(members: ChannelMembers, session_id: str, channel: str, user: str) -> Mrkdwn:
    """A session of another channel: where it is, only to someone who can read that channel.
    To anyone else it does not exist: ids come from a thread's channel and ts, so any other
    answer would confirm a conversation in a channel they cannot see."""
    try:
        readable = await members.can_see(channel, user)
    except MembershipUnknown:
        readable = False  # fail closed, as every membership check does
    if not readable:
        return literal(f"No session {session_id}.")
    return join(
        literal(f"`{session_id}` belongs to "),
        channel_link(channel),
        literal("; run the command there."),
    )


async def answer(
    engine: Engine,
    members: ChannelMembers,
    command: SlashCommand,
    *,
    origins: Origins | None = None,
) -> tuple[Mrkdwn, str | None]:
    """(short answer, long text to upload or None) for one command (``origins``: which
    organization a person is in, as ``pending`` judges them)."""
    # Slack escapes &, < and > in a command's text, as in a message: quoted back escaped
    # again, "a&b" was shown as "a&amp;b".
    typed = html.unescape(command.text)
    words = typed.split()
    verb = words[0].lower() if words else "help"
    if verb == "help":
        return HELP, None
    if verb == "sessions" and len(words) == 1:
        return await _sessions_here(engine, command.channel_id), None
    if verb == "pending" and len(words) == 1:
        return await pending_for(engine, members, command.user_id, origins), None
    if verb == "trace" and len(words) <= 2:
        if len(words) == 2 and words[1] != "here":
            try:
                session_id = check_session_id(words[1])
            except SessionsError as exc:
                return join(
                    escape(str(exc)), literal(". Try `/signoff sessions` to see session ids.")
                ), None
        else:
            latest = await engine.sessions(channel=command.channel_id, limit=1)
            if not latest:
                return literal("No sessions in this channel yet."), None
            session_id = latest[0].id
        try:
            record = await engine.session(session_id)
            where = record.thread.channel
            if where != command.channel_id:
                # A trace shows the conversation: only where that conversation happened.
                return await _elsewhere(members, session_id, where, command.user_id), None
            history = await engine.history(session_id)
        except NotFoundError:
            return literal(f"No session {session_id}."), None
        except SignoffError as exc:
            # A damaged record is an answer to give, not a crash that gives none; the
            # details (paths) go to the log.
            log.warning("trace of %s: %s", session_id, exc)
            return literal(
                f"The trace of `{session_id}` cannot be read. "
                "An operator can run `signoff verify` to see why."
            ), None
        # Rendered off the loop too: tens of thousands of events, each line escaped.
        text, block = await off_loop(_rendered, history)
        if len(block) <= INLINE_LIMIT:  # as sent: escaping makes "&" five characters
            parked = _parked(history)
            return join(parked, literal("\n"), block) if parked else block, None
        return literal(f"The trace of `{session_id}` is long; it is uploaded as a file here."), text
    rest = HELP.split("\n", 1)[1]
    return join(literal("I don't know `"), escape(typed[:60]), literal("`. "), literal(rest)), None


def register_commands(
    app: AsyncApp, engine: Engine, client: AsyncWebClient, *, origins: Origins | None = None
) -> None:
    members = ChannelMembers(client)

    async def on_command(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        try:
            command = SlashCommand.model_validate(body)
        except ValidationError:
            log.warning("malformed slash command payload")
            return
        short, long_text = await answer(engine, members, command, origins=origins)
        # Nothing may escape: Bolt would log a traceback quoting the payload (the envelope
        # itself was acked by the socket thread already, see ``socket``).
        try:
            await respond_ephemeral(respond, short)
        except Exception as exc:  # the response_url expired, or Slack is unreachable
            log.warning("could not answer /signoff %s: %s", shown(command.text, 40), failure(exc))
            return
        if long_text is None:
            return
        try:
            await client.files_upload_v2(
                channel=command.channel_id,
                content=file_text(long_text),
                filename="signoff-trace.txt",
                title="signoff trace",
                initial_comment=join(literal("Trace requested by "), mention(command.user_id)),
            )
        except Exception as exc:  # not in the channel (any more), or Slack is unreachable
            why = slack_error(exc)
            # failure(): the SDK's own text of a Slack error is two lines, quoting its answer.
            log.warning("could not upload a trace to %s: %s", command.channel_id, failure(exc))
            # Slack's word is its text, not signoff's (a proxy in the way may say anything).
            told = join(
                literal("The trace could not be uploaded here ("),
                escape(why or type(exc).__name__),
                literal(")."),
            )
            try:
                await respond_ephemeral(respond, told)
            except Exception as again:
                log.warning("could not say the trace upload failed: %s", failure(again))

    app.command(COMMAND)(guarded(on_command))
