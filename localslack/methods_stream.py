"""chat.startStream / chat.appendStream / chat.stopStream (records in streams.py).

``startStream`` posts the bot message that will grow (in ``thread_ts``'s thread, which is
required and must exist) and answers its ``channel`` and ``ts``; outside DMs it needs
``recipient_user_id`` and ``recipient_team_id`` (``missing_recipient_user_id`` /
``missing_recipient_team_id``; the team must be the recipient's own, which for a Slack
Connect guest is not the channel host's), and ``task_display_mode`` is ``timeline`` (default) or ``plan``. ``appendStream`` needs
``markdown_text`` or ``chunks`` (``no_text``). ``stopStream`` may add text, chunks, ``blocks``
(rendered under the text) and ``metadata``, and moves the thread's agent session, if there
is one, to ``session_status`` (default ``active``). Once the app stopped it, both answer
``message_not_in_streaming_state``; once a person stopped the agent, ``appendStream`` does,
and ``stopStream`` ends it once (see streams.py); an unknown ``ts`` is
``message_not_found``. Starting a stream in a thread is a reply: it clears the thread status.
"""

from __future__ import annotations

import copy
from typing import Any

from localslack.agent_sessions import SESSION_STATUSES
from localslack.blockkit import validate_blocks
from localslack.errors import SlackError
from localslack.metadata import parse_metadata
from localslack.methods_chat import shown
from localslack.methods_common import (
    invalid_arguments,
    require_args,
    require_channel,
    require_member,
    require_writable,
)
from localslack.records import JSON, Channel
from localslack.runtime import Runtime
from localslack.streams import DISPLAY_MODES, StreamRecord, check_chunks, check_markdown
from localslack.webapi import ApiRequest, Args, Method

__all__ = ["METHODS"]


def _content(rt: Runtime, args: Args) -> tuple[str | None, list[JSON]]:
    markdown = args.get("markdown_text")
    raw = args.get("chunks")
    chunks = [] if raw is None or raw == "" else check_chunks(raw)
    for chunk in chunks:
        if chunk["type"] == "blocks":
            chunk["blocks"] = rt.messages.normalize_blocks(chunk["blocks"])
    return (None if markdown is None else check_markdown(markdown)), chunks


def _final_blocks(rt: Runtime, value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        raise SlackError("invalid_blocks_format")
    errors = validate_blocks(value)
    if errors:
        raise SlackError("invalid_blocks", extra={"response_metadata": {"messages": errors}})
    return rt.messages.normalize_blocks(value)


def _stream_target(
    rt: Runtime, args: Args, *, ending: bool = False
) -> tuple[Channel, JSON, StreamRecord]:
    require_args(args, "channel", "ts")
    channel = require_channel(rt, args)
    require_member(rt, channel, posting=True)
    ts = args.text("ts") or ""
    message = rt.workspace.get(channel.id, ts)
    if message is None:
        raise SlackError("message_not_found")
    if ending:
        return channel, message, rt.streams.ending(channel=channel.id, ts=ts)
    return channel, message, rt.streams.streaming(channel=channel.id, ts=ts)


def _show(rt: Runtime, channel: Channel, message: JSON, record: StreamRecord) -> None:
    message["text"] = record.text
    if record.blocks:
        message["blocks"] = copy.deepcopy(record.blocks)
    rt.workspace.published(channel.id, message)
    rt.streams.changed(record)


async def start_stream(rt: Runtime, req: ApiRequest) -> JSON:
    # Streams are replies to a person (thread_ts is required in Slack's reference and in
    # slack_sdk, though newer docs mention top-level streams in channels).
    require_args(req.args, "channel", "thread_ts")
    channel = require_channel(rt, req.args)
    require_member(rt, channel, posting=True)
    require_writable(channel)
    thread_ts = req.args.text("thread_ts")
    rt.messages.resolve_thread(channel, thread_ts)
    recipient = req.args.text("recipient_user_id")
    team = req.args.text("recipient_team_id")
    if not channel.is_im:
        if recipient is None:
            raise SlackError("missing_recipient_user_id")
        if team is None:
            raise SlackError("missing_recipient_team_id")
    if recipient is not None and recipient not in rt.workspace.users:
        raise SlackError("user_not_found")
    if recipient is not None and team is not None and team != rt.workspace.team_of(recipient):
        # The reference: "the team the user receiving the streaming text belongs to" (a
        # Slack Connect guest's own, not the channel's host). Slack names no error for a
        # mismatch; this is localslack's, so a test sees the wrong team at once.
        raise invalid_arguments(
            "[ERROR] recipient_team_id is not the team of recipient_user_id "
            "[json-pointer:/recipient_team_id]"
        )
    mode = req.args.text("task_display_mode") or "timeline"
    if mode not in DISPLAY_MODES:
        raise invalid_arguments(
            f"[ERROR] must be one of {', '.join(DISPLAY_MODES)} [json-pointer:/task_display_mode]"
        )
    markdown, chunks = _content(rt, req.args)
    record = StreamRecord(
        channel=channel.id,
        ts="",
        thread_ts=None,
        display_mode=mode,
        recipient_user_id=recipient,
        recipient_team_id=team,
        started_at=rt.clock(),
    )
    record.apply(method=req.method, at=rt.clock(), markdown=markdown, chunks=chunks)
    message = await rt.messages.post_bot(
        channel,
        text=record.text,
        blocks=record.blocks or None,
        thread_ts=thread_ts,
    )
    record.ts = str(message["ts"])
    record.thread_ts = message.get("thread_ts")
    rt.streams.start(record)
    return {"channel": channel.id, "ts": record.ts}


async def append_stream(rt: Runtime, req: ApiRequest) -> JSON:
    channel, message, record = _stream_target(rt, req.args)
    markdown, chunks = _content(rt, req.args)
    if not markdown and not chunks:
        raise SlackError("no_text")
    record.apply(method=req.method, at=rt.clock(), markdown=markdown, chunks=chunks)
    _show(rt, channel, message, record)
    return {"channel": channel.id, "ts": record.ts}


async def stop_stream(rt: Runtime, req: ApiRequest) -> JSON:
    channel, message, record = _stream_target(rt, req.args, ending=True)
    markdown, chunks = _content(rt, req.args)
    blocks = _final_blocks(rt, req.args.get("blocks"))
    metadata = parse_metadata(req.args.get("metadata"))
    session_status = req.args.text("session_status") or "active"
    if session_status not in SESSION_STATUSES:
        raise invalid_arguments(
            f"[ERROR] must be one of {', '.join(SESSION_STATUSES)} [json-pointer:/session_status]"
        )
    record.apply(method=req.method, at=rt.clock(), markdown=markdown, chunks=chunks)
    record.blocks.extend(blocks)
    if metadata is not None:
        message["metadata"] = metadata
    rt.streams.stop(record, by="app")
    _show(rt, channel, message, record)
    session = rt.sessions.get(channel=channel.id, thread_ts=record.thread_ts or "")
    if session is not None:
        rt.sessions.set_status(
            channel=channel.id,
            thread_ts=session.thread_ts,
            status=session_status,
            title=None,
            initiator_user_id=None,
            by=req.method,
        )
    return {"channel": channel.id, "ts": record.ts, "message": shown(rt, message)}


METHODS: dict[str, Method] = {
    "chat.startStream": Method(start_stream, scopes=("chat:write",)),
    "chat.appendStream": Method(append_stream, scopes=("chat:write",)),
    "chat.stopStream": Method(stop_stream, scopes=("chat:write",)),
}
