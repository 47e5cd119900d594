"""The team an event's thread is kept under: the installation's.

In a Slack Connect channel another organization created, Slack names that organization
(the channel's source workspace) as an event's top-level ``team_id``, and the installation
the event is delivered to as ``authorizations[0].team_id`` (Slack's SDKs key an event by
the latter for this reason: bolt-js #687, java-slack-sdk #629); a click's ``team.id`` is
the installation too (java-slack-sdk #1041). Keyed by the envelope's ``team_id``, a thread
there had its mention, replies, edits and stops under the partner's team and the answers
to its clicks under the installation's: two records of one Slack thread. Every event is
now keyed by the installation's team; an envelope without a usable ``authorizations``
entry (an org-wide install names no team there) keeps its own ``team_id``.

A home may keep a thread under the envelope's team already (signoff keyed events so before):
while signoff knows that thread and not one under the installation's team, its events are
still keyed by the team it is kept under, so a conversation started before the upgrade goes
on where it is.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import JsonValue, ValidationError

from sessions import ThreadKey, check_slack_id

__all__ = ["keyed_by_installation"]

Knows = Callable[[ThreadKey], bool]


def _installation(payload: dict[str, JsonValue]) -> str | None:
    """``authorizations[0].team_id`` when it is a Slack id: one that is not (forged, or
    null for an org-wide install) names no team to key by."""
    found = payload.get("authorizations")
    first = found[0] if isinstance(found, list) and found else None
    try:
        return check_slack_id(first.get("team_id")) if isinstance(first, dict) else None
    except ValueError:
        return None


def _thread_ts(event: dict[str, JsonValue]) -> JsonValue:
    """The ts of the thread an event's message is in (as each handler reads it)."""
    subtype = event.get("subtype")
    if subtype == "message_changed":
        message = event.get("message")
        if not isinstance(message, dict):
            return None
        return message.get("thread_ts") or message.get("ts")
    if subtype == "message_deleted":
        previous = event.get("previous_message")
        own = previous.get("thread_ts") if isinstance(previous, dict) else None
        return own or event.get("deleted_ts")
    return event.get("thread_ts") or event.get("ts")


def _kept_under(payload: dict[str, JsonValue], old: str, new: str, *, knows: Knows) -> bool:
    """Does the home keep this event's thread under ``old`` and not under ``new``?"""
    event = payload.get("event")
    if not isinstance(event, dict):
        return False
    place = {"channel": event.get("channel"), "thread_ts": _thread_ts(event)}
    try:
        kept = ThreadKey.model_validate({"team": old, **place})
        moved = ThreadKey.model_validate({"team": new, **place})
    except ValidationError:
        return False
    return knows(kept) and not knows(moved)


def keyed_by_installation(payload: JsonValue, *, knows: Knows) -> JsonValue:
    """``payload`` with its ``team_id`` the team its thread is kept under: the
    installation's, unless the home keeps the thread under the envelope's own (``knows``:
    does signoff know this thread?). The payload itself is left as Slack sent it."""
    if not isinstance(payload, dict):
        return payload
    installed, envelope = _installation(payload), payload.get("team_id")
    if installed is None or installed == envelope:
        return payload
    if isinstance(envelope, str) and _kept_under(payload, envelope, installed, knows=knows):
        return payload
    return {**payload, "team_id": installed}
