"""Telling the person behind a click, a shortcut or a message that signoff could not read it.

Slack shows nothing for a click's ack, and the card stays as it was (nothing was decided,
which is the truth), so the person saw nothing happen and no reason; a mention's author
waited for an answer that was never coming. After the ack they are told, to them only,
beside what they did: ephemerally in its channel and thread, or by direct message from
the Home tab, or when Slack refuses the ephemeral (a message shortcut works in
conversations signoff is not in). A form or a command is answered on its ack instead
(``unreadable_answers``). Only ids Slack could have sent are used: the payload was not
readable, and nothing else of it is ever shown.

What could not even be kept (the quarantine is full for today) is told too, but within a
``NoticeBudget``: a person once an hour, and a few people an hour in all, so that a
flood of bad input, the very thing that fills the quarantine, cannot make signoff flood
Slack (its log line says each one was dropped). What was kept is told within a budget
too, a wider one: a person ten times an hour (a client that sends one bad payload
tends to send many, and the eleventh notice says nothing the tenth did not; each is in
the quarantine for an operator).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from sessions import Clock, InvalidIdError, check_slack_id, check_slack_ts

from .listeners import failure
from .slack_text import Mrkdwn, literal

__all__ = ["KEPT_EACH_PER_HOUR", "KEPT_PER_HOUR", "NoticeBudget", "Told", "tell_sender"]

# What each interaction is called, and what did not happen because of it.
_TOLD_AFTER = {
    "block_actions": ("click", "nothing was decided"),
    "shortcut": ("shortcut", "nothing was done"),
    "message_action": ("shortcut", "nothing was done"),
}
_MESSAGE = ("message", "it did nothing with it")


# Past the quarantine's cap: the most people told in one hour of the clock.
UNKEPT_PER_HOUR = 20
# Kept in the quarantine: how often one person is told in an hour, and how many people.
KEPT_EACH_PER_HOUR = 10
KEPT_PER_HOUR = 1_000


@dataclass(frozen=True)
class Told:
    """How the sender was told, for the log line; ``skipped``: they were not, by budget."""

    how: str
    skipped: bool = False


class NoticeBudget:
    """Who may be told of an unreadable payload now: each person ``each`` times in an hour
    of the clock, and at most ``per_hour`` people in it (memory bounded by that too)."""

    def __init__(self, clock: Clock, *, per_hour: int = UNKEPT_PER_HOUR, each: int = 1) -> None:
        self.clock = clock
        self.per_hour = per_hour
        self.each = each
        self._hour = ""
        self._told: dict[str, int] = {}

    def take(self, user: str) -> str | None:
        """None when ``user`` may be told (and is counted); otherwise why not."""
        hour = self.clock.now().strftime("%Y-%m-%dT%H")
        if hour != self._hour:
            self._hour, self._told = hour, {}
        told = self._told.get(user, 0)
        if told >= self.each:
            return f"not told: told of {'another' if self.each == 1 else self.each} this hour"
        if not told and len(self._told) >= self.per_hour:
            return f"not told: {self.per_hour} people told of such messages this hour"
        self._told[user] = told + 1
        return None


@dataclass(frozen=True)
class _Sender:
    user: str | None
    channel: str | None
    thread_ts: str | None
    what: str
    outcome: str


def _sender(kind: str, payload: dict[str, Any]) -> _Sender | None:
    """Who to tell and where, for a payload of envelope type ``kind`` (None: nobody
    expects an answer to such a thing)."""
    if kind == "events_api":
        event = payload.get("event")
        if not isinstance(event, dict) or event.get("type") not in ("app_mention", "message"):
            return None
        return _Sender(
            _valid(_person, event.get("user")),
            _valid(check_slack_id, event.get("channel")),
            _valid(check_slack_ts, event.get("thread_ts"))
            or _valid(check_slack_ts, event.get("ts")),
            *_MESSAGE,
        )
    kind_of = payload.get("type")
    named = _TOLD_AFTER.get(kind_of) if kind == "interactive" and isinstance(kind_of, str) else None
    if named is None:
        return None
    return _Sender(
        _valid(_person, _field(payload, "user", "id")),
        _valid(check_slack_id, _field(payload, "channel", "id"))
        or _valid(check_slack_id, _field(payload, "container", "channel_id")),
        # A message shortcut has no container: its message says which thread it was in.
        _valid(check_slack_ts, _field(payload, "container", "thread_ts"))
        or _valid(check_slack_ts, _field(payload, "message", "thread_ts")),
        *named,
    )


async def tell_sender(
    client: AsyncWebClient,
    kind: str,
    payload: object,
    *,
    kept: str,
    budget: NoticeBudget | None = None,
) -> Told | None:
    """Tell the person behind ``payload`` (acked already, kept as quarantine record
    ``kept``, or "": it could not be kept) that signoff did nothing with it, if ``budget``
    lets them be told now; says how, for the log line (None: not a thing anyone expects
    an answer to)."""
    sender = _sender(kind, payload) if isinstance(payload, dict) else None
    if sender is None:
        return None
    if sender.user is None:
        return Told("nobody to tell")
    if budget is not None and (why := budget.take(sender.user)) is not None:
        return Told(why, skipped=True)
    where = (
        f"It was kept for an operator as {kept} (`signoff quarantine {kept}`)."
        if kept
        else "It could not be kept for an operator either (too many unreadable ones today): "
        "tell one if it mattered."
    )
    text = literal(f"signoff could not read this {sender.what}, so {sender.outcome}. {where}")
    return Told(await _post(client, sender, sender.user, text))


async def _post(client: AsyncWebClient, sender: _Sender, user: str, text: Mrkdwn) -> str:
    refused = ""
    try:
        if sender.channel is not None:
            try:
                await client.chat_postEphemeral(
                    channel=sender.channel, user=user, text=text, thread_ts=sender.thread_ts
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


def _person(value: object) -> str:
    """A user's id: a direct message to any other id (a channel's) would be posted there,
    for everyone in it to read, after the ephemeral to it was refused."""
    user = check_slack_id(value)
    if not user.startswith(("U", "W")):
        raise InvalidIdError(f"not a user id: {user}")
    return user


def _valid(check: Callable[[object], str], value: object) -> str | None:
    try:
        return check(value)
    except InvalidIdError:
        return None
