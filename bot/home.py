"""The Home tab as Block Kit: what waits for this person, what they asked, what was decided.

Three parts, in the order a person acts on them:

* **Waiting for you** — the requests this person may decide now (``Engine.pending_for``:
  the same authorization a click gets), each with the call, who asked and their
  message, where its card is, its age and expiry, quorum progress, and the card's own
  Approve / Deny buttons (same action ids, same handlers, same confirmation).
* **Your open requests** — what they asked that still waits, and for whom.
* **Recently decided** — the last week's decisions they made or that were on their
  requests, and how the call ran.

Rendered from the engine's answers, never from memory; all text through ``slack_text``.
A Home tab holds up to 100 blocks: each part is capped and says how many more there are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent_core.engine import PendingApproval
from agent_core.person_queries import DecidedApproval, OpenRequest
from agent_core.surface import CardView
from approvals import SYSTEM, Capsule, what_helps

from .card_fields import json_lookalike
from .card_governance import actions_block_id, not_run_why, ran_text
from .cards import ANYONE, approve_deny_buttons, expiry, progress
from .drawn_text import visible
from .membership import COULD_NOT_CHECK
from .slack_text import (
    Mrkdwn,
    channel_link,
    clip_mrkdwn,
    escape,
    escape_clipped,
    join,
    literal,
    mentions,
    mrkdwn_object,
    parse_utc,
    plain_text,
    quote,
    relative,
    slack_date,
)

__all__ = ["COUNTED", "HOME_CALLBACK", "MAX_MINE", "MAX_WAITING", "HomeContent", "home_view"]

HOME_CALLBACK = "signoff_home"
MAX_WAITING = 12
# How many waiting requests are counted at most ("200+" beyond).
COUNTED = 200
MAX_MINE = 10
_TEXT_LIMIT = 2900
_CALL_LIMIT = 160
_TOO_LONG = literal("The call is too long to show here whole: approve it on its card in ")
# A string shown bare in ``key=value, …`` reads back as itself: words with one space
# between them and nothing that separates arguments, quotes or escapes.
_BARE = re.compile(r'[^\s,=`"\\]+(?: [^\s,=`"\\]+)*')
UNCHECKED = (
    f"{COULD_NOT_CHECK} just now who is in some channels or approver groups (or which "
    "organization you are in): requests waiting there are not listed here. Open this tab "
    "again in a moment."
)


def _unchecked(refused: str) -> str:
    if not refused:
        return UNCHECKED
    return (
        f"{COULD_NOT_CHECK} who is in some channels or approver groups (or which organization "
        f"you are in){what_helps(refused)}. Requests waiting there are not listed here."
    )


_VERDICT = {"approved": "✅ approved", "denied": "🚫 denied", "expired": "⌛ expired"}


@dataclass(frozen=True)
class HomeContent:
    """What one person's Home shows, as the engine answered."""

    user: str
    waiting: Sequence[PendingApproval]
    mine: Sequence[OpenRequest]
    decided: Sequence[DecidedApproval]
    now: datetime
    # A note about their last click here (a refusal, a vote counted), shown on top.
    notice: Mrkdwn | None = None
    # signoff's user id: its mention is dropped from the requests quoted here.
    bot_user: str = ""
    # Slack did not say which channels they can see: requests there are not in ``waiting``.
    unchecked: bool = False
    # Slack refused signoff one of those lookups (its answer): trying again will not help.
    refused: str = ""


def _call(capsule: Capsule, arguments: Mapping[str, object] | None = None) -> Mrkdwn:
    """`tool` `key=value, …` on one line (the card and the trace have the whole call);
    ``arguments``: the ones the approval now stands for, when an approver edited them."""
    return _call_line(capsule, arguments)[0]


def _call_line(
    capsule: Capsule, arguments: Mapping[str, object] | None = None
) -> tuple[Mrkdwn, bool]:
    """``_call``, and whether it shows the whole call (else it is cut at ``_CALL_LIMIT``)."""
    call = capsule.arguments if arguments is None else arguments
    args = visible(", ".join(f"{k}={_value(v)}" for k, v in call.items()))  # drawn true
    args = args.replace("\n", " ")  # one line: no value holds one bare (nor collapsed)
    whole = len(args) <= _CALL_LIMIT
    if not whole:
        args = args[: _CALL_LIMIT - 1] + "…"
    shown = join(literal("*`"), escape(capsule.tool), literal("`*"))
    if args:
        shown = join(shown, literal("  `"), escape(args.replace("`", "ˋ")), literal("`"))
    return shown, whole


def _value(value: object) -> str:
    """A string as it is when that reads back as itself, else quoted as JSON writes it:
    bare, ``"api, dry_run=true"`` read as two arguments, ``"api "`` as ``api`` and
    ``"null"`` as null, and Approve here ran what the line did not say. Anything else as
    JSON, not Python's ``str()``, which drew None as the string "None" is drawn. A
    backtick as ``\\u0060``: the line is inline code, which a backtick would end."""
    bare = isinstance(value, str) and _BARE.fullmatch(value) and visible(value) == value
    if bare and not json_lookalike(str(value)):
        return str(value)
    return json.dumps(value, ensure_ascii=False).replace("`", "\\u0060")


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": plain_text(text, 150)}}


def _section(block_id: str, text: Mrkdwn) -> dict[str, Any]:
    return {
        "type": "section",
        "block_id": block_id,
        "text": mrkdwn_object(clip_mrkdwn(text, _TEXT_LIMIT)),
    }


def _context(text: Mrkdwn) -> dict[str, Any]:
    return {
        "type": "context",
        "elements": [mrkdwn_object(clip_mrkdwn(text, _TEXT_LIMIT))],
    }


def _age(capsule: Capsule, now: datetime) -> str:
    return relative(parse_utc(capsule.created_at), now)


def _waiting(content: HomeContent) -> list[dict[str, Any]]:
    count = len(content.waiting)
    if content.unchecked:  # a count, or "nothing waits", would not be true
        blocks = [_header("Waiting for you"), _context(literal(_unchecked(content.refused)))]
    else:
        blocks = [_header(f"Waiting for you ({count}{'+' if count >= COUNTED else ''})")]
        if not content.waiting:
            return [*blocks, _context(literal("Nothing waits for your decision."))]
    for item in content.waiting[:MAX_WAITING]:
        c = item.capsule
        # What its Approve button approves: the edited call, once edited.
        call, whole = _call_line(c, item.view.arguments if item.view else None)
        lines = [
            call,
            join(
                literal("asked by "),
                mentions(c.askers),
                literal(" in "),
                channel_link(item.channel),
                literal(f", {_age(c, content.now)} · expires "),
                expiry(c, content.now),
            ),
        ]
        if c.request_text.strip():
            lines.append(quote(c.request_text, bot_user=content.bot_user, limit=200))
        needed = item.view.needed if item.view else c.policy.quorum
        if so_far := progress(needed, item.voters):
            lines.append(so_far)
        if content.user in item.voters:
            # Their vote is counted; the card still lets them deny (a final decision).
            more = needed - len(item.voters)
            lines.append(literal(f"✔ You approved it; {more} more needed."))
        if not whole:  # an argument past the cut would be approved unseen
            lines.append(join(_TOO_LONG, channel_link(item.channel), literal(".")))
        blocks.append(_section(f"wait-{c.id}", join(*lines, sep="\n")))
        if content.user not in item.voters:
            view = item.view or CardView(c)
            # Editing is done on the card, in its thread, where the others see it; and
            # denying what one has not read whole runs nothing.
            blocks.append(
                approve_deny_buttons(
                    view, block_id=actions_block_id(c.id, view), with_edit=False, with_approve=whole
                )
            )
    if len(content.waiting) > MAX_WAITING:
        rest = f"{count - MAX_WAITING}{'+' if count >= COUNTED else ''}"
        blocks.append(_context(literal(f"…and {rest} more: `/signoff pending` lists them.")))
    return blocks


def _mine(content: HomeContent) -> list[dict[str, Any]]:
    blocks = [_header("Your open requests")]
    if not content.mine:
        return [*blocks, _context(literal("Nothing you asked for is waiting."))]
    for item in content.mine[:MAX_MINE]:
        c = item.capsule
        where = item.card.channel if item.card else (c.card_channel or c.thread.channel)
        who = (
            literal(ANYONE)  # an escalation adds people to rules that need nobody
            if (deciders := item.deciders) is None
            else mentions(list(dict.fromkeys([*deciders, *item.escalated])))
            or literal("nobody both rules allow")
        )
        place = (
            join(
                literal("\n⚠️ its card could not be posted in "),
                channel_link(where),
                literal(" ("),
                escape(item.refused),
                literal(
                    "): approvers who can see that channel decide it from their Home tab; "
                    "`signoff pending` lists it for an operator"
                ),
            )
            if item.refused
            else join(literal("\nin "), channel_link(where))
        )
        line = join(
            _call(c, item.arguments),
            place,
            literal(f", {_age(c, content.now)} · waiting for "),
            who,
            literal(" · expires "),
            expiry(c, content.now),
        )
        if so_far := progress(item.quorum, item.voters):
            line = join(line, literal("\n"), so_far)
        blocks.append(_section(f"mine-{c.id}", line))
    return blocks


def _decided_line(item: DecidedApproval, now: datetime) -> Mrkdwn:
    c, d = item.capsule, item.decision
    when = relative(parse_utc(d.at), now)
    if d.deciders == (SYSTEM,):
        verdict = literal(f"{_VERDICT[d.verdict]}: nobody decided in time ({when})")
    else:
        verdict = join(
            literal(f"{_VERDICT[d.verdict]} by "), mentions(d.deciders), literal(f" {when}")
        )
    line = join(
        _call(c, item.arguments),
        literal("\n"),
        verdict,
        literal(" · asked by "),
        mentions(c.askers),
    )
    if item.result is not None and (why := not_run_why(item.result)):
        line = join(line, literal(" · not run: "), escape_clipped(why, 300))
    elif item.result is not None:
        ran = ran_text(item.result.status, started=item.started)
        line = join(line, literal(f" · {ran}"))
    elif item.stale is not None:
        line = join(line, literal(" · ⌛ stale: did not run"))
    elif waiting := item.waiting_for_tool:
        line = join(line, literal(" · ⏳ not run yet: "), escape_clipped(waiting, 300))
    elif d.verdict == "approved" and item.told is not None:
        line = join(line, literal(" · not run: it failed its checks when it was to start"))
    return line


def _decided(content: HomeContent) -> list[dict[str, Any]]:
    blocks = [_header("Recently decided")]
    if not content.decided:
        return [*blocks, _context(literal("No decisions for you in the last 7 days."))]
    for item in content.decided[:MAX_MINE]:
        blocks.append(_section(f"done-{item.capsule.id}", _decided_line(item, content.now)))
    return blocks


def home_view(content: HomeContent) -> dict[str, Any]:
    """The whole Home tab for ``content.user`` (at most ~60 blocks of Slack's 100)."""
    blocks: list[dict[str, Any]] = []
    if content.notice:
        blocks.append(_context(join(literal("ℹ️ "), content.notice)))
    blocks.extend(_waiting(content))
    blocks.append({"type": "divider"})
    blocks.extend(_mine(content))
    blocks.append({"type": "divider"})
    blocks.extend(_decided(content))
    stamp = slack_date(content.now, tokens="{date_short_pretty} at {time}")
    blocks.append(_context(join(literal("Updated "), stamp)))
    return {"type": "home", "callback_id": HOME_CALLBACK, "blocks": blocks}
