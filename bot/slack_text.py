"""The one place outgoing text is rendered for Slack.

Text a person or a model wrote is data: ``escape`` makes it inert mrkdwn, so ``<!here>``,
``<!channel>``, ``<!everyone>``, ``<!subteam^…>``, ``<@U…>`` and ``<https://…|…>`` show as
the characters they are and notify nobody, ``&`` shows as ``&``, and a lone surrogate
(which Slack's JSON would reject) becomes U+FFFD. Mentions are made only by ``mention`` and
``group_mention`` from ids signoff holds (validated, never taken from text).

Everything that posts (replies, cards, outcomes, ephemerals, modals, slash answers, the
comment on an uploaded trace) builds its text from these functions; the ``Mrkdwn`` type
lets the type checker hold every Slack call to that.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NewType

from sessions import check_slack_id

__all__ = [
    "Mrkdwn",
    "code_block",
    "escape",
    "escape_reply",
    "group_mention",
    "join",
    "literal",
    "mention",
    "mentions",
    "plain_text",
    "without_surrogates",
]

Mrkdwn = NewType("Mrkdwn", str)

_USER = re.compile(r"[UW][A-Z0-9]{2,39}")
_GROUP = re.compile(r"S[A-Z0-9]{2,39}")


def without_surrogates(text: str) -> str:
    """``text`` with every lone surrogate replaced, so it encodes as UTF-8."""
    # Through UTF-16: a valid pair of surrogates becomes its character, a lone one U+FFFD.
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def escape(text: str) -> Mrkdwn:
    """Someone else's text, shown as written and able to ping nobody."""
    clean = without_surrogates(text)
    return Mrkdwn(clean.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def escape_reply(text: str, *, people: Iterable[str] = (), groups: Iterable[str] = ()) -> Mrkdwn:
    """A reply: escaped, except mentions of ``people`` (users signoff holds: a thread's
    authors and deciders) and of ``groups`` — user groups, re-enabled only in signoff's own
    posts about an approval (a reminder pings its approver groups), never in a model's."""
    out = escape(text)
    for user in people:
        if _USER.fullmatch(user):
            out = Mrkdwn(out.replace(f"&lt;@{user}&gt;", f"<@{user}>"))
    for group in groups:
        if _GROUP.fullmatch(group):
            out = Mrkdwn(out.replace(f"&lt;!subteam^{group}&gt;", f"<!subteam^{group}>"))
    return out


def plain_text(text: str, limit: int) -> str:
    """For ``plain_text`` objects (Slack does not parse them): clean and clipped."""
    clean = without_surrogates(text)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def literal(text: str) -> Mrkdwn:
    """signoff's own fixed wording (never anything a person or a model wrote)."""
    return Mrkdwn(text)


def mention(user_id: str) -> Mrkdwn:
    """A mention of a user signoff holds the id of (a requester, a decider)."""
    return Mrkdwn(f"<@{check_slack_id(user_id)}>")


def group_mention(group_id: str) -> Mrkdwn:
    return Mrkdwn(f"<!subteam^{check_slack_id(group_id)}>")


def mentions(ids: Iterable[str], *, system: str = "signoff") -> Mrkdwn:
    """People and groups by id, as mentions; anything else (``signoff``) as plain text."""
    parts: list[str] = []
    for item in ids:
        if _USER.fullmatch(item):
            parts.append(mention(item))
        elif _GROUP.fullmatch(item):
            parts.append(group_mention(item))
        else:
            parts.append(escape(system if item == system else item))
    return Mrkdwn(", ".join(parts))


def join(*parts: Mrkdwn, sep: str = "") -> Mrkdwn:
    return Mrkdwn(sep.join(parts))


def code_block(text: str) -> Mrkdwn:
    """Text in a code block: escaped, and a fence inside cannot end the block early."""
    return Mrkdwn("```" + escape(text).replace("```", "ˋˋˋ") + "```")
