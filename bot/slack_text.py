"""The one place outgoing text is rendered for Slack.

Text a person or a model wrote is data: ``escape`` makes it inert mrkdwn, so ``<!here>``,
``<!channel>``, ``<!everyone>``, ``<!subteam^…>``, ``<@U…>`` and ``<https://…|…>`` show as
the characters they are and notify nobody, ``&`` shows as ``&``, and a lone surrogate
(which Slack's JSON would reject) becomes U+FFFD. A terminal's escape sequences (a tool's
coloured output, which a model may echo) are dropped and any other control character
becomes U+FFFD: they are no text. Arguments an approver reads pass ``visible`` first, so
a character that draws nothing or turns the rest around (``\\u202e``) shows as its
escape. Mentions are made only by ``mention`` and ``group_mention`` from ids signoff holds
(validated, never taken from text).

Everything that posts (replies, cards, outcomes, ephemerals, modals, slash answers, the
Home tab, the comment on an uploaded trace) builds its text from these functions; the
``Mrkdwn`` type lets the type checker hold every Slack call to that. An uploaded file's
content (a long trace, a long answer) is ``file_text``: Slack parses no markup in a file.

Times are shown with Slack's date formatting (``<!date^…>``: each reader sees their own
time zone, and the fallback where a client cannot), next to a relative phrase such as
"in 7 days" computed when the text is rendered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, NewType

from agent_core.parsing import CALL_NAME
from sessions import check_slack_id, from_utc_iso, readable

from .drawn_text import without_controls

__all__ = [
    "ABSOLUTE",
    "MAX_REASON",
    "FileText",
    "Mrkdwn",
    "channel_link",
    "clip_mrkdwn",
    "code_block",
    "escape",
    "escape_clipped",
    "escape_reply",
    "escaped_fit",
    "file_text",
    "group_mention",
    "join",
    "literal",
    "mention",
    "mentions",
    "mrkdwn_object",
    "parse_utc",
    "plain_text",
    "quote",
    "relative",
    "slack_date",
    "span_after",
    "span_words",
    "tool_label",
    "whole_cut",
    "without_surrogates",
]

Mrkdwn = NewType("Mrkdwn", str)
FileText = NewType("FileText", str)

# The longest reason a decision takes: the reason modals' input limit (Slack's
# plain_text_input allows up to 3,000), and ``signoff approve|deny --reason``'s.
MAX_REASON = 1000

_USER = re.compile(r"[UW][A-Z0-9]{2,39}")
_GROUP = re.compile(r"S[A-Z0-9]{2,39}")
# A mention as Slack sends it in a person's text: <@U…> or <@U…|name>.
_TYPED_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,39})(?:\|([^<>]*))?>")
# A ``]`` that makes a markdown link somewhere: an inline link's ``](`` or a definition's
# ``]:`` before a target with a scheme (``https:``, ``mailto:``), ``//``, or ``&`` (an
# escaped ``<target>``); see ``escape_reply``.
_MARKDOWN_LINK = re.compile(r"\](?=[(:]\s*(?:[A-Za-z][A-Za-z0-9+.\-]*:|//|&))")


def without_surrogates(text: str) -> str:
    """``text`` with every lone surrogate replaced, so it encodes as UTF-8."""
    # Through UTF-16: a valid pair of surrogates becomes its character, a lone one U+FFFD.
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def file_text(text: str) -> FileText:
    """A text file's content. Slack shows a file as it is and parses no markup in it, so
    nothing is escaped (``&amp;`` would show as typed) and no mention there notifies; a
    lone surrogate, which the upload's UTF-8 cannot carry, becomes U+FFFD."""
    return FileText(without_surrogates(text))


def escape(text: str) -> Mrkdwn:
    """Someone else's text, shown as written and able to ping nobody."""
    clean = without_controls(without_surrogates(text))
    return Mrkdwn(clean.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def escape_reply(text: str, *, people: Iterable[str] = (), groups: Iterable[str] = ()) -> Mrkdwn:
    """A reply: escaped, except mentions of ``people`` (users signoff holds: a thread's
    authors and deciders) and of ``groups`` — user groups, re-enabled only in signoff's own
    posts about an approval (a reminder pings its approver groups), never in a model's.

    A streamed reply is Slack's standard markdown, where ``[label](https://…)`` is a link
    whose label hides where it goes: a zero-width space after a ``]`` whose ``(`` or
    ``:`` (a reference's definition, without which ``[label][ref]`` is no link) leads to
    a target leaves no such link, and people still read every character. Code such as
    ``handlers[name](event)`` is left as written: it is copied and pasted."""
    out = Mrkdwn(_MARKDOWN_LINK.sub("]\u200b", escape(text)))
    for user in people:
        if _USER.fullmatch(user):
            out = Mrkdwn(out.replace(f"&lt;@{user}&gt;", f"<@{user}>"))
    for group in groups:
        if _GROUP.fullmatch(group):
            out = Mrkdwn(out.replace(f"&lt;!subteam^{group}&gt;", f"<!subteam^{group}>"))
    return out


def mrkdwn_object(text: Mrkdwn) -> dict[str, Any]:
    """A Block Kit ``mrkdwn`` text object of rendered text.

    ``verbatim``: Slack parses only the markup signoff wrote (``<@U…>``, ``<!date^…>``).
    Without it (Slack's default, per its text object reference) plain text becomes links
    and "certain mentions": a handle such as ``@oncall`` in someone's words could ping.
    """
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def tool_label(name: str) -> str:
    """A tool call's name where Slack shows it outside a message (the status line, a
    streamed reply's task steps): a name no tool could have is the model's own text, said
    as "an unknown tool" rather than shown in whatever markup it holds."""
    return name if CALL_NAME.fullmatch(name) else "an unknown tool"


def plain_text(text: str, limit: int) -> str:
    """For ``plain_text`` objects (Slack does not parse them): clean and clipped."""
    clean = without_controls(without_surrogates(text))
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def whole_cut(text: str, at: int, *, backticks: bool = True) -> int:
    """Where to cut rendered text at ``at`` characters or before, never inside an entity
    (``&am…``), a ``<…>`` token (a mention, a date) or (``backticks``) a run of backticks:
    half of one shows as typed."""
    if len(text) <= at:
        return len(text)
    cut = text[:at]
    lt = cut.rfind("<")
    if lt != -1 and ">" not in cut[lt:]:
        cut = cut[:lt]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    # Nor inside a run of backticks: half a ``` fence shows as backticks, and the rest
    # no longer counts as one when fences are balanced.
    return len(cut.rstrip("`") if backticks else cut)


def clip_mrkdwn(text: Mrkdwn, limit: int) -> Mrkdwn:
    """Rendered text cut to ``limit`` characters (what Slack counts), never inside an
    entity or a token (``whole_cut``)."""
    if len(text) <= limit:
        return text
    return Mrkdwn(text[: whole_cut(text, limit - 1)] + "…")


_WIDTH = {char: len(escape(char)) for char in "&<>"}  # &amp; &lt; &gt;


def escaped_fit(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` once escaped (what Slack counts)."""
    size = 0
    for index, char in enumerate(text):
        size += _WIDTH.get(char, 1)
        if size > limit:
            return index
    return len(text)


def escape_clipped(text: str, limit: int) -> Mrkdwn:
    """``text`` escaped, then clipped to ``limit``: escaping lengthens it (``&`` is five
    characters), so a clip before it does not bound what Slack counts."""
    return clip_mrkdwn(escape(text), limit)


def literal(text: str) -> Mrkdwn:
    """signoff's own fixed wording (never anything a person or a model wrote)."""
    return Mrkdwn(text)


def mention(user_id: str) -> Mrkdwn:
    """A mention of a user signoff holds the id of (a requester, a decider)."""
    return Mrkdwn(f"<@{check_slack_id(user_id)}>")


def group_mention(group_id: str) -> Mrkdwn:
    return Mrkdwn(f"<!subteam^{check_slack_id(group_id)}>")


def mentions(ids: Iterable[str], *, system: str = "signoff", limit: int = 1500) -> Mrkdwn:
    """People and groups by id, as mentions; anything else (``signoff``) as plain text.

    Past ``limit`` characters the rest is counted ("and 12 more"), so a long list never
    ends in half a mention.
    """
    parts: list[str] = []
    items = list(ids)
    used = 0
    for index, item in enumerate(items):
        if _USER.fullmatch(item):
            part = mention(item)
        elif _GROUP.fullmatch(item):
            part = group_mention(item)
        else:
            part = escape(system if item == system else item)
        if used + len(part) > limit and parts:
            parts.append(f"and {len(items) - index} more")
            break
        parts.append(part)
        used += len(part) + 2
    return Mrkdwn(", ".join(parts))


def channel_link(channel_id: str) -> Mrkdwn:
    """A link to a channel signoff holds the id of (``<#C…>``)."""
    return Mrkdwn(f"<#{check_slack_id(channel_id)}>")


def quote(text: str, *, bot_user: str, limit: int = 600) -> Mrkdwn:
    """What a person wrote, as a block quote that pings nobody.

    The mention of signoff (``bot_user``, from auth.test) that the message begins with is
    dropped: it only addressed signoff. Every other mention they typed, at the start too
    ("@signoff @bob restart api"), shows as ``@name`` (or ``@U…``) in plain characters, so
    the approver sees who else was addressed and quoting never notifies anyone again.
    """
    body = without_surrogates(text)
    if _USER.fullmatch(bot_user):
        address = rf"^\s*(?:<@{bot_user}(?:\|[^<>]*)?>[\s,:]*)+"
        body = re.sub(address, "", body)
    body = _TYPED_MENTION.sub(lambda m: "@" + (m.group(2) or m.group(1)), body.strip())
    body = " ".join(body.split()) if "\n" not in body else body
    if len(body) > limit:
        body = body[: limit - 1] + "…"
    lines = body.splitlines() or [""]
    return Mrkdwn("\n".join(">" + escape(line) for line in lines[:12]))


def parse_utc(stamp: str) -> datetime:
    """signoff's own timestamps (``2026-11-02T09:00:00.000Z``) as aware datetimes."""
    return from_utc_iso(stamp).astimezone(UTC)


def slack_date(moment: datetime, *, tokens: str = "{date_short_pretty} at {time}") -> Mrkdwn:
    """A time every reader sees in their own zone; the fallback is UTC, spelled out."""
    return Mrkdwn(f"<!date^{int(moment.timestamp())}^{tokens}|{readable(moment)}>")


# For "before <date>": never "today" or "tomorrow", which read oddly after a preposition.
ABSOLUTE = "{date_short} at {time}"


def relative(moment: datetime, now: datetime) -> str:
    """ "in 7 days", "3 hours ago", "in less than a minute": the nearest whole unit.

    True only as long as ``now`` is: for what is drawn when someone looks (the Home tab,
    a slash answer), never on a card that stays in a thread for days (``span_after``)."""
    seconds = (moment - now).total_seconds()
    if abs(seconds) < 60:
        return "in less than a minute" if seconds >= 0 else "just now"
    words = span_words(abs(seconds))
    return f"in {words}" if seconds >= 0 else f"{words} ago"


def span_words(seconds: float) -> str:
    """ "7 days", "6 hours", "1 minute": the nearest whole unit."""
    if seconds < 60:
        return "less than a minute"
    size, unit = next(
        u for u in ((86400, "day"), (3600, "hour"), (60, "minute")) if seconds >= u[0]
    )
    count = round(seconds / size)  # "7 days" a moment after asking for 7 days
    return f"{count} {unit}{'' if count == 1 else 's'}"


def span_after(moment: datetime, since: datetime, what: str) -> str:
    """ "7 days after the request": anchored, so it stays true however late it is read."""
    return f"{span_words(max(0.0, (moment - since).total_seconds()))} after {what}"


def join(*parts: Mrkdwn, sep: str = "") -> Mrkdwn:
    return Mrkdwn(sep.join(parts))


def code_block(text: str) -> Mrkdwn:
    """Text in a code block: escaped, and a fence inside cannot end the block early."""
    return Mrkdwn("```" + escape(text).replace("```", "ˋˋˋ") + "```")
