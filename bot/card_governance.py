"""The parts of a card that governance adds: the edit and its difference, escalation, the
second clock, approvers' reasons, a stale approval, and the Edit & approve button.

The actions block's id carries the short hash of the arguments the card shows, so a click
says which arguments the clicker saw: an approval counts only for those (a client still
drawing the card from before an edit cannot approve the edited call unseen).
"""

from __future__ import annotations

import re
from typing import Any

from agent_core.live_steps import NOT_RUN
from agent_core.surface import CardView
from approvals import ExecutionResult, changes
from approvals.follow_up_posts import duration_text

from .drawn_text import visible
from .slack_text import (
    ABSOLUTE,
    Mrkdwn,
    clip_mrkdwn,
    escape_clipped,
    join,
    literal,
    mention,
    mentions,
    mrkdwn_object,
    parse_utc,
    slack_date,
    span_after,
)

__all__ = [
    "EDIT",
    "actions_block_id",
    "edit_block",
    "edit_button",
    "escalation_block",
    "not_run_why",
    "ran_text",
    "reach_block",
    "reasons_text",
    "seen_hash",
    "stale_text",
    "valid_field",
]

EDIT = "signoff_edit"
_SEEN = re.compile(r"-h([0-9a-f]{12})$")


def actions_block_id(version: str, view: CardView) -> str:
    return f"act-{version}-h{view.args_sha256[:12]}"


def seen_hash(block_id: str) -> str | None:
    """The short hash a card's actions block says it showed, or None (an older card)."""
    match = _SEEN.search(block_id)
    return match.group(1) if match else None


def valid_field(view: CardView) -> dict[str, Any] | None:
    """The second clock: how long an approval stays good for starting the call."""
    decision = view.decision
    if decision is not None and decision.valid_until:
        until = parse_utc(decision.valid_until)
        span = span_after(until, parse_utc(decision.at), "the approval")
        when = join(slack_date(until), literal(f" ({span})"))
        return mrkdwn_object(join(literal("*Must start by*\n"), when))
    seconds = (
        view.valid_for if view.valid_for is not None else view.capsule.policy.valid_for_seconds
    )
    if decision is None and seconds is not None:
        return mrkdwn_object(literal(f"*Valid after approval*\n{duration_text(seconds)}"))
    return None


def edit_block(view: CardView, version: str) -> dict[str, Any] | None:
    """Who edited the arguments, and what changed against what the model asked."""
    if not view.edits:
        return None
    last = view.edits[-1]
    diff = changes(view.capsule.arguments, dict(last.arguments))
    # Each as inline code: as mrkdwn, "*web*" drew "web" in bold, its asterisks gone. Its
    # values are JSON, where a backtick (which would end the code) may be "\u0060".
    lines = (
        "\n".join("• `" + visible(c.describe()).replace("`", "\\u0060") + "`" for c in diff)
        or "• (no difference from the request)"
    )
    # Within Slack's 3000: editors 300, the difference 2200, the reason 300, and the words.
    editors = mentions(list(dict.fromkeys(e.user for e in view.edits)), limit=300)
    text = join(
        literal("✏️ *Edited* by "),
        editors,
        literal(" at "),
        slack_date(parse_utc(last.at)),
        literal("; the call that runs is the edited one:\n"),
        escape_clipped(lines, 2200),
    )
    if last.reason:
        text = join(text, literal("\n>"), escape_clipped(last.reason, 300))
    return {
        "type": "section",
        "block_id": f"edit-{version}",
        "text": mrkdwn_object(text),
    }


def escalation_block(view: CardView, version: str) -> dict[str, Any] | None:
    escalation = view.escalation
    if escalation is None or not escalation.added:
        return None  # escalated to the requester alone: nobody was added
    still = escalation.added if view.escalated is None else view.escalated
    dropped = [a for a in escalation.added if a not in still]
    at = slack_date(parse_utc(escalation.at))
    if still:
        text = join(literal("⏫ Escalated to "), mentions(still), literal(" at "), at)
        text = join(text, literal(": they may decide it too."))
    else:
        text = join(literal("⏫ Escalated at "), at, literal("."))
    if dropped:  # off the rota since: as a click is judged (``authorize``)
        text = join(
            text,
            literal(" The policy in force no longer escalates to "),
            mentions(dropped),
            literal(": they may not decide it."),
        )
    return {
        "type": "context",
        "block_id": f"esc-{version}",
        "elements": [mrkdwn_object(clip_mrkdwn(text, 2900))],
    }


def reach_block(view: CardView, version: str) -> dict[str, Any] | None:
    """A waiting card whose quorum a policy change put out of reach says so: else it
    offers Approve to people who can never complete it, and waits, silently, to expire."""
    alone = view.out_of_reach
    if alone is None:
        return None
    text = join(
        literal("⚠️ This request cannot be approved under the policy in force: it needs "),
        literal(f"{view.needed} approvals, and only "),
        mentions(list(alone)) if alone else literal("nobody"),
        literal(" may give them. Deny it, or ask whoever runs signoff to change the policy."),
    )
    return {
        "type": "context",
        "block_id": f"reach-{version}",
        "elements": [mrkdwn_object(clip_mrkdwn(text, 2900))],
    }


def reasons_text(view: CardView) -> Mrkdwn:
    """The approvers' reasons, one quoted line each ("" when none gave one)."""
    parts = [
        join(literal("\n>"), mention(who), literal(": "), escape_clipped(why, 500))
        for who, why in view.reasons
    ]
    return join(*parts)


def ran_text(status: str, *, started: bool | None) -> str:
    """How a card and the Home tab say an approved call ended. A claimed call stopped or
    cut off before its tool was called has a result too (error or uncertain), but it did
    not run, and "ran: failed" would say it did."""
    if started is False:
        return "not run: claimed, then stopped before its tool was called"
    return {
        "ok": "ran: ok",
        "error": "ran: failed",
        # A crash, a timeout, a server or connection lost mid-call: the thread says which.
        "uncertain": "⚠️ ran, outcome uncertain: check the system",
    }[status]


def not_run_why(result: ExecutionResult) -> str:
    """Why a claimed call did not run, as its result says (what the model was told, less
    the words that say so), or "" when it ran: the tool refused it before any of it ran."""
    return "" if result.ran else result.output.removeprefix(f"{NOT_RUN}: ")


def stale_text(view: CardView) -> Mrkdwn:
    if view.stale is None:
        return literal("")
    return join(
        literal("\n⌛ *Stale*: the call could not start before "),
        slack_date(parse_utc(view.stale.valid_until), tokens=ABSOLUTE),
        literal(" and did not run. A fresh request is needed."),
    )


def edit_button(view: CardView) -> dict[str, Any] | None:
    if not (view.allow_edit and view.arguments):
        return None
    return {
        "type": "button",
        "action_id": EDIT,
        # Not "Edit & approve": a label that contains "Approve" reads as a second Approve.
        "text": {"type": "plain_text", "text": "Edit…"},
        "value": view.capsule.id,
    }
