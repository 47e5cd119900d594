"""Status for AI apps in threads: assistant.threads.setStatus and agents.sessions.setStatus.

Which one a bot mentioned in a *channel* thread can use (Slack's docs, 2026):

* ``assistant.threads.setStatus`` takes ``chat:write`` (or, for now, ``assistant:write``)
  since the 2026-03 scope change, so channel apps can show a loading state without the AI
  split view. Any thread the app can read will do; a ``thread_ts`` that names no message is
  ``invalid_thread_ts``. See thread_status.py for how the status goes away.
* ``agents.sessions.setStatus`` needs ``chat:write`` *and* an app declared as an agent in its
  settings, which is what grants ``assistant:write``; localslack treats that scope as the
  declaration, so other apps get ``missing_scope`` (needed: ``assistant:write``). It creates
  or moves the thread's session (agent_sessions.py); ``icon_emoji``/``icon_url``/``username``
  need ``chat:write.customize``. Setting ``processing`` without an ``agent_session_stopped``
  subscription answers ok with Slack's warning ``missing_agent_session_stopped_event_subscription``.
"""

from __future__ import annotations

from typing import Any

from localslack.agent_sessions import SESSION_STATUSES
from localslack.errors import SlackError
from localslack.methods_common import (
    invalid_arguments,
    require_args,
    require_channel,
    require_member,
    require_scope,
)
from localslack.records import JSON, Channel
from localslack.runtime import Runtime
from localslack.webapi import ApiRequest, Args, Method

__all__ = ["METHODS"]

MAX_LOADING_MESSAGES = 10
MAX_SESSION_TITLE = 200
_STOP_WARNING = "missing_agent_session_stopped_event_subscription"


def _thread(rt: Runtime, args: Args) -> tuple[Channel, str]:
    """The conversation and the thread's parent ts, from channel_id and thread_ts."""
    channel = require_channel(rt, args, key="channel_id")
    require_member(rt, channel)
    parent = rt.workspace.thread_parent(channel.id, args.text("thread_ts") or "")
    if parent is None:
        raise SlackError("invalid_thread_ts")
    return channel, str(parent["ts"])


def _loading_messages(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
        raise invalid_arguments(
            "[ERROR] must provide an array of strings [json-pointer:/loading_messages]"
        )
    if len(value) > MAX_LOADING_MESSAGES:
        raise invalid_arguments(
            f"[ERROR] no more than {MAX_LOADING_MESSAGES} items allowed [json-pointer:/loading_messages]"
        )
    return tuple(value)


async def set_thread_status(rt: Runtime, req: ApiRequest) -> JSON:
    require_args(req.args, "channel_id", "thread_ts", "status")
    channel, thread_ts = _thread(rt, req.args)
    status = req.args.get("status")
    if not isinstance(status, str):
        raise invalid_arguments("[ERROR] must be a string [json-pointer:/status]")
    loading = _loading_messages(req.args.get("loading_messages"))
    rt.statuses.set(
        channel=channel.id, thread_ts=thread_ts, status=status, loading_messages=loading
    )
    return {}


async def set_session_status(rt: Runtime, req: ApiRequest) -> JSON:
    require_scope(rt, "assistant:write")
    require_args(req.args, "status")
    status = req.args.text("status")
    if status not in SESSION_STATUSES:
        raise invalid_arguments(
            f"[ERROR] must be one of {', '.join(SESSION_STATUSES)} [json-pointer:/status]"
        )
    # Session channels (threadless sessions) are not modelled: a session is a thread's.
    require_args(req.args, "channel_id", "thread_ts")
    channel, thread_ts = _thread(rt, req.args)
    title = req.args.text("title")
    if title is not None and len(title) > MAX_SESSION_TITLE:
        raise invalid_arguments(
            f"[ERROR] must be less than {MAX_SESSION_TITLE + 1} characters [json-pointer:/title]"
        )
    initiator = req.args.text("initiator_user_id")
    if initiator is not None and initiator not in channel.members:
        raise SlackError("user_not_in_channel")
    if any(req.args.text(k) for k in ("icon_emoji", "icon_url", "username")):
        require_scope(rt, "chat:write.customize")
    session = rt.sessions.set_status(
        channel=channel.id,
        thread_ts=thread_ts,
        status=status,
        title=title,
        initiator_user_id=initiator,
        by=req.method,
    )
    body: JSON = {"status": session.status, "agent_status": session.status, "title": session.title}
    if status == "processing" and not rt.events.subscribed("agent_session_stopped"):
        body.update(warning=_STOP_WARNING, response_metadata={"warnings": [_STOP_WARNING]})
    return body


METHODS: dict[str, Method] = {
    "assistant.threads.setStatus": Method(
        set_thread_status, scopes=("chat:write", "assistant:write")
    ),
    "agents.sessions.setStatus": Method(set_session_status, scopes=("chat:write",)),
}
