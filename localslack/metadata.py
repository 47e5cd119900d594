"""Message metadata: how chat.postMessage, chat.update and chat.stopStream check it, and how
much of it readers get back.

Writing (Slack's errors): ``metadata`` must be a JSON object (``invalid_metadata_format``
otherwise, including JSON that does not parse) holding a non-empty string ``event_type`` and
an object ``event_payload`` and nothing else (``invalid_metadata_schema``), at most
:data:`MAX_METADATA_BYTES` once encoded (``metadata_too_large``; Slack documents the error,
not the number).

Reading: Slack strips ``event_payload`` from messages it hands back (history, replies, the
``message`` in chat.* responses, message events) and keeps only ``event_type``, unless the
reader passes ``include_all_metadata=true`` (conversations.history/replies) or the app declared
that event type in its manifest (python-slack-sdk#1501 shows the stripping). So an outbox that
finds its own posts by an id in the payload must ask with ``include_all_metadata``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any

from localslack.errors import SlackError
from localslack.records import JSON

__all__ = ["MAX_METADATA_BYTES", "parse_metadata", "visible_metadata"]

MAX_METADATA_BYTES = 8_000


def parse_metadata(value: Any) -> JSON | None:
    """The stored form of a ``metadata`` argument, or None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        # merge_args leaves unparsable JSON as the raw string.
        try:
            value = json.loads(value)
        except ValueError:
            raise SlackError("invalid_metadata_format") from None
    if not isinstance(value, dict):
        raise SlackError("invalid_metadata_format")
    event_type, payload = value.get("event_type"), value.get("event_payload")
    if (
        set(value) != {"event_type", "event_payload"}
        or not isinstance(event_type, str)
        or not event_type.strip()
        or not isinstance(payload, dict)
    ):
        raise SlackError("invalid_metadata_schema")
    if len(json.dumps(value, separators=(",", ":")).encode()) > MAX_METADATA_BYTES:
        raise SlackError("metadata_too_large")
    return {"event_type": event_type, "event_payload": copy.deepcopy(payload)}


def visible_metadata(message: JSON, *, include_all: bool, declared: Iterable[str]) -> JSON:
    """A copy of `message` as a reader sees it: without ``event_payload`` unless asked for
    or declared."""
    shown = copy.deepcopy(message)
    metadata = shown.get("metadata")
    if (
        isinstance(metadata, dict)
        and not include_all
        and metadata.get("event_type") not in set(declared)
    ):
        shown["metadata"] = {"event_type": metadata.get("event_type")}
    return shown
