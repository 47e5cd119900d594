"""Field types for what Slack sends, each checked where it enters signoff.

Everything a listener or the inbox reads from a payload has one of these types, so a bad
value is refused at the boundary with a reason a person can read, instead of failing
later in storage (a ``ts`` that cannot name a file, text that cannot be encoded).
Limits follow Slack's documentation: message text is truncated by Slack at 40,000
characters; ````action_id``, ``block_id`` and ``callback_id`` are at most 255; a button ``value`` 2,000.
"""

from __future__ import annotations

import html
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Strict, StringConstraints, ValidationError

from sessions import check_slack_id, check_slack_ts

__all__ = [
    "MAX_TEXT",
    "ActionId",
    "EventId",
    "EventText",
    "Label",
    "SlackId",
    "SlackTs",
    "SlackUrl",
    "Text",
    "describe",
    "shown",
]

MAX_TEXT = 40_000


def _unicode(value: object) -> object:
    # Before the type check, which would only say "unable to parse raw data".
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            # JSON can carry a lone surrogate (\\ud800); no file, log or Slack post can.
            raise ValueError(f"not valid Unicode text (lone surrogate at {exc.start})") from None
    return value


# A team, channel or user id (T…, C…, U…, W…, B…): the same check as every id that
# becomes part of a path.
SlackId = Annotated[str, Strict(), AfterValidator(check_slack_id)]
SlackTs = Annotated[str, Strict(), AfterValidator(check_slack_ts)]
# Slack's event ids look like Ev0PV52K25; any short alphanumeric token is accepted.
EventId = Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Za-z0-9]{1,64}$")]
Text = Annotated[
    str, StringConstraints(strict=True, max_length=MAX_TEXT), BeforeValidator(_unicode)
]


def _as_written(text: str) -> str:
    if len(html.unescape(text)) > MAX_TEXT:
        raise ValueError(f"should have at most {MAX_TEXT} characters as written")
    return text


# A message's text as events carry it: Slack's limit is on what the person wrote, and the
# event escapes each &, < and > (``&amp;`` is five characters for one), so a pasted log
# within the limit can arrive longer than it.
EventText = Annotated[
    str,
    StringConstraints(strict=True, max_length=5 * MAX_TEXT),
    BeforeValidator(_unicode),
    AfterValidator(_as_written),
]
ActionId = Annotated[str, StringConstraints(strict=True, max_length=255), BeforeValidator(_unicode)]
# callback_id, trigger_id, a button value and the like.
Label = Annotated[str, StringConstraints(strict=True, max_length=2_000), BeforeValidator(_unicode)]
SlackUrl = Annotated[
    str, StringConstraints(strict=True, max_length=3_000, pattern=r"^https?://[^\s]+$")
]


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shown(value: object, limit: int = 60) -> str:
    """A value from outside, for one log line: repr'd with ASCII escapes, bounded."""
    return _bounded(ascii(value), limit)


def describe(error: ValidationError) -> str:
    """The first problem of a validation error, as ``where: what`` on one ASCII line."""
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "payload"
    what = str(first["msg"]).removeprefix("Value error, ")
    # Keys of the payload appear in ``where``: escape them like any outside value.
    return _bounded(ascii(f"{where}: {what}")[1:-1], 200)
