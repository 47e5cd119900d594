"""Telling the person behind a click or shortcut that signoff could not read it.

Slack shows nothing for a click's ack, and the card stays as it was (nothing was decided,
which is the truth), so the person saw nothing happen and no reason. After the ack they
are told, to them only, beside what they clicked: ephemerally in its channel and thread,
or by direct message from the Home tab, or when Slack refuses the ephemeral (a message
shortcut works in conversations signoff is not in). A form or a command is answered on
its ack instead (``unreadable_answers``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from sessions import InvalidIdError, check_slack_id, check_slack_ts

from .listeners import failure
from .slack_text import literal

__all__ = ["tell_clicker"]

_TOLD_AFTER = {"block_actions": "click", "shortcut": "shortcut", "message_action": "shortcut"}


async def tell_clicker(client: AsyncWebClient, payload: object, *, kept: str) -> str | None:
    """Tell the person behind a click or shortcut refused before any listener (its ack is
    acked already) that nothing was done; says how, for the log line (None: no such
    interaction). Only ids Slack could have sent are used: the payload was not readable."""
    kind = payload.get("type") if isinstance(payload, dict) else None
    what = _TOLD_AFTER.get(kind) if isinstance(kind, str) else None
    if what is None or not isinstance(payload, dict):
        return None
    user = _valid(check_slack_id, _field(payload, "user", "id"))
    if user is None:
        return "nobody to tell"
    channel = _valid(check_slack_id, _field(payload, "channel", "id")) or _valid(
        check_slack_id, _field(payload, "container", "channel_id")
    )
    # A message shortcut has no container: its message says which thread it was used in.
    thread_ts = _valid(check_slack_ts, _field(payload, "container", "thread_ts")) or _valid(
        check_slack_ts, _field(payload, "message", "thread_ts")
    )
    text = literal(
        f"signoff could not read this {what}, so nothing was "
        f"{'decided' if what == 'click' else 'done'}. It was kept for an operator as {kept} "
        f"(`signoff quarantine {kept}`)."
    )
    refused = ""
    try:
        if channel is not None:
            try:
                await client.chat_postEphemeral(
                    channel=channel, user=user, text=text, thread_ts=thread_ts
                )
                return "told them ephemerally"
            except SlackApiError as exc:
                if exc.response.status_code >= 500:
                    raise  # it may have landed: a DM too could tell them twice
                # Not there (signoff is not in the conversation, the thread is gone):
                # their DM still reaches them.
                refused = f" (the ephemeral was refused: {failure(exc)})"
        # A Home tab or modal click: no channel to answer in but their DM.
        await client.chat_postMessage(channel=user, text=text)
        return f"told them in a direct message{refused}"
    except Exception as exc:  # Slack refused, or is unreachable: the log line says so
        return f"could not tell them: {failure(exc)}{refused}"


def _field(payload: dict[str, Any], key: str, inner: str) -> object:
    found = payload.get(key)
    return found.get(inner) if isinstance(found, dict) else None


def _valid(check: Callable[[object], str], value: object) -> str | None:
    try:
        return check(value)
    except InvalidIdError:
        return None
