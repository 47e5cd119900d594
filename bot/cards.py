"""Approval cards in Block Kit, rendered from what is on disk when they are sent.

A card reads at a glance: the tool and what it says it does, who asked and their message
(quoted), the arguments as fields (and the JSON below when they do not fit), who may
approve (as mentions), the expiry in each reader's time zone with "in 7 days", quorum
progress, the tool's own hints, and a short hash of the exact call. The buttons carry
only the approval id. A decided card has no buttons left: the outcome, who and when
replace them, and once the call ran, how it ended. Block ids change with each version of
the card, as Slack asks, so clients redraw it.

All text a person or a model wrote goes through ``slack_text``; mentions come only from
the ids the capsule holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agent_core.surface import CardView
from approvals import SYSTEM, Capsule

from .card_fields import argument_fields, arguments_json, hints
from .card_governance import (
    actions_block_id,
    edit_block,
    edit_button,
    escalation_block,
    not_run_why,
    ran_text,
    reach_block,
    reasons_text,
    stale_text,
    valid_field,
)
from .slack_text import (
    ABSOLUTE,
    Mrkdwn,
    clip_mrkdwn,
    escape,
    escape_clipped,
    escape_reply,
    join,
    literal,
    mention,
    mentions,
    mrkdwn_object,
    parse_utc,
    plain_text,
    quote,
    relative,
    slack_date,
    span_after,
)

__all__ = [
    "ANYONE",
    "APPROVE",
    "DENY",
    "approve_deny_buttons",
    "card_blocks",
    "expiry",
    "fallback_text",
    "progress",
]

APPROVE = "signoff_approve"
DENY = "signoff_deny"
# Whom an ``anyone`` rule is open to: a Slack Connect guest who sees the card in a shared
# channel is refused as from "another organization" (``approvals.authorize``).
ANYONE = "anyone in signoff's organization"
_TEXT_LIMIT = 2900  # section text is capped at 3000 characters
_FIELD_LIMIT = 1900  # a field at 2000


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def expiry(capsule: Capsule, now: datetime) -> Mrkdwn:
    """``<!date^…>`` (each reader's zone) and "in 7 days" / "2 hours ago", for what is
    drawn as someone looks (the Home tab, ``/signoff pending``)."""
    at = parse_utc(capsule.expires_at)
    return join(slack_date(at), literal(f" ({relative(at, now)})"))


def card_expiry(capsule: Capsule) -> Mrkdwn:
    """On the card, which stays in the thread for days between updates: Slack draws the
    date as each reader looks ("tomorrow at 9:00"); the span is the request's own."""
    at = parse_utc(capsule.expires_at)
    span = span_after(at, parse_utc(capsule.created_at), "the request")
    return join(slack_date(at), literal(f" ({span})"))


def progress(quorum: int, voters: tuple[str, ...]) -> Mrkdwn:
    """ "1 of 2 approvals: @bob" (quorum > 1), or "" when one approval decides."""
    if quorum <= 1:
        return literal("")
    line = literal(f"{len(voters)} of {quorum} approvals")
    return join(line, literal(": "), mentions(voters)) if voters else line


def fallback_text(view: CardView) -> Mrkdwn:
    capsule, decision = view.capsule, view.decision
    tool = escape(capsule.tool)
    if decision is None:
        return join(
            literal("Approval needed: "),
            tool,
            literal(" (requested by "),
            mention(capsule.requester),
            literal(")"),
        )
    return join(tool, literal(f": {decision.verdict}"))


def _approvers(view: CardView) -> Mrkdwn:
    """Who may decide under both rules, as a click is judged (escalations are shown apart)."""
    # No one named: both rules are open (anyone of the installation), or they name no one in common (only
    # an escalation can add someone then).
    nobody = ANYONE if view.approvers is None else "nobody both rules allow"
    who = mentions(list(view.deciders)) or literal(nobody)
    needed = f" ({view.needed} needed)" if view.needed > 1 else ""
    self_part = "" if view.requester_may_decide else ", not the requester"
    return join(who, literal(needed + self_part))


def _asked(capsule: Capsule, asked_in: str | None, bot_user: str) -> Mrkdwn:
    """Who asked, and their message quoted; where, when the card is not in their thread."""
    where = literal("")
    if capsule.card_channel:
        link = f"<{asked_in}|a direct message>" if asked_in else "a direct message"
        where = literal(f" in {link} with signoff")
    text = capsule.request_text
    if not text and capsule.reason.startswith("asked: "):
        text = capsule.reason.removeprefix("asked: ")  # capsules from before request_text
    line = join(mentions(capsule.askers), where, literal(" asked" + (":" if text.strip() else ".")))
    return join(line, literal("\n"), quote(text, bot_user=bot_user)) if text.strip() else line


def _why(capsule: Capsule) -> Mrkdwn:
    """The agent's own words when it asked (not the fallback that repeats the message)."""
    reason = capsule.reason.strip()
    if not reason or reason.startswith("asked: "):
        return literal("")
    return join(literal("Why (the agent): "), escape_clipped(reason, 600))


def _outcome(view: CardView) -> Mrkdwn:
    capsule, decision = view.capsule, view.decision
    assert decision is not None
    icon = {"approved": "✅ Approved", "denied": "🚫 Denied", "expired": "⌛ Expired"}[
        decision.verdict
    ]
    # Slack capitalizes a date it shows first ("Today at 9:19 AM"): it follows a " · ".
    at = slack_date(parse_utc(decision.at))
    if decision.verdict == "expired" or decision.deciders == (SYSTEM,):
        deadline = slack_date(parse_utc(capsule.expires_at), tokens=ABSOLUTE)
        line = join(literal(f"{icon}: no decision before "), deadline)
    else:
        line = join(literal(f"{icon} by "), mentions(decision.deciders), literal(" · "), at)
    if len(decision.deciders) > 1 and view.reasons:
        line = join(line, reasons_text(view))  # whose reason is whose
    elif decision.reason and decision.deciders != (SYSTEM,):
        # A stop's reason names who stopped ("stopped from Slack by <@U…>"): the deciders'
        # own mentions render, nothing else in a person's text does.
        reason = escape_reply(_clip(decision.reason, 500), people=decision.deciders)
        line = join(line, literal("\n>"), reason)
    line = join(line, stale_text(view))
    waiting = view.waiting_for_tool
    if waiting:  # else "Approved" reads as if it ran
        line = join(
            line,
            literal("\n⏳ Not run yet: "),
            escape_clipped(waiting, 500),
            literal(". It runs once the tool is available again."),
        )
    if view.refused:
        line = join(line, literal("\n_not run: it failed its checks when it was to start_"))
    if view.result is not None:
        done = slack_date(parse_utc(view.result.at))
        why = not_run_why(view.result)
        if why:  # the tool refused it: "ran: failed" would say it ran
            line = join(line, literal("\n_not run_: "), escape_clipped(why, 500))
            line = join(line, literal(" · _"), done, literal("_"))
        else:
            ran = ran_text(view.result.status, started=view.started)
            line = join(line, literal(f"\n_{ran} · "), done, literal("_"))
    return line


def _section(block_id: str, text: Mrkdwn) -> dict[str, Any]:
    return {
        "type": "section",
        "block_id": block_id,
        "text": mrkdwn_object(clip_mrkdwn(text, _TEXT_LIMIT)),
    }


def _context(block_id: str, text: Mrkdwn) -> dict[str, Any]:
    return {
        "type": "context",
        "block_id": block_id,
        "elements": [mrkdwn_object(clip_mrkdwn(text, _TEXT_LIMIT))],
    }


def _field(title: str, body: Mrkdwn) -> dict[str, Any]:
    return mrkdwn_object(clip_mrkdwn(join(literal(f"*{title}*\n"), body), _FIELD_LIMIT))


def card_blocks(
    view: CardView, *, asked_in: str | None = None, bot_user: str = ""
) -> list[dict[str, Any]]:
    """The card as it must look now; ``asked_in``: a link back to where it was asked;
    ``bot_user``: signoff's user id, whose mention is dropped from the quoted request."""
    capsule, decision = view.capsule, view.decision
    version = view.version  # in every block id: Slack re-renders a block whose id changed
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "block_id": f"h-{version}",
            "text": {
                "type": "plain_text",
                "text": plain_text(f"Approval needed: {capsule.tool}", 150),
            },
        },
    ]
    if capsule.tool_description.strip():
        summary = capsule.tool_description.strip().split("\n\n")[0]
        blocks.append(
            _context(f"about-{version}", join(literal("🛠 "), escape_clipped(summary, 500)))
        )
    blocks.append(_section(f"asked-{version}", _asked(capsule, asked_in, bot_user)))
    # The arguments the approval now stands for: the edited ones, once edited.
    fields, complete = argument_fields(view.arguments)
    if fields:
        blocks.append({"type": "section", "block_id": f"args-{version}", "fields": fields})
    else:
        blocks.append(_section(f"args-{version}", literal("_No arguments._")))
    if not complete:
        blocks.append(_section(f"json-{version}", arguments_json(view.arguments)))
    blocks.append(
        {
            "type": "section",
            "block_id": f"who-{version}",
            "fields": [
                _field("Requested by", mentions(capsule.askers)),
                _field("Approvers", _approvers(view)),
                # Decided, it waits for nobody: an expiry (frozen "in 3 days") would mislead.
                *([] if decision else [_field("Expires", card_expiry(capsule))]),
                _field("Call hash", _hashes(view)),
                *([valid] if (valid := valid_field(view)) else []),
            ],
        }
    )
    notes = [n for n in (_why(capsule), hints(capsule)) if n]
    if notes:
        blocks.append(_context(f"why-{version}", join(*notes, sep="\n")))
    blocks += [b for b in (edit_block(view, version), escalation_block(view, version)) if b]
    if decision is not None:
        blocks.append({"type": "divider", "block_id": f"div-{version}"})
        blocks.append(_section(f"outcome-{version}", _outcome(view)))
        return blocks
    so_far = progress(view.needed, view.voters)
    if so_far and view.edits:
        so_far = join(so_far, literal(" (for the edited call; earlier approvals lapsed)"))
    if so_far:
        blocks.append(_context(f"votes-{version}", so_far))
    if (reach := reach_block(view, version)) is not None:
        blocks.append(reach)
    blocks.append(approve_deny_buttons(view, block_id=actions_block_id(version, view)))
    return blocks


def _hashes(view: CardView) -> Mrkdwn:
    shown = literal(f"`{view.args_sha256[:12]}`")
    if view.edits:
        shown = join(shown, literal(f" (asked: `{view.capsule.short_hash}`)"))
    return shown


def approve_deny_buttons(
    view: CardView, *, block_id: str, with_edit: bool = True, with_approve: bool = True
) -> dict[str, Any]:
    """The card's buttons; the Home tab shows the very same ones (same action ids), or
    some of them (``with_edit``, ``with_approve``).

    ``block_id`` should end in the short hash the buttons stand for
    (``card_governance.actions_block_id``): an approval counts only for what was seen.
    """
    capsule = view.capsule
    approve: dict[str, Any] = {
        "type": "button",
        "action_id": APPROVE,
        "style": "primary",
        "text": {"type": "plain_text", "text": "Approve"},
        "value": capsule.id,
    }
    if not view.require_reason:  # with a reason to give, the modal is the confirmation
        approve["confirm"] = {
            "title": {"type": "plain_text", "text": "Run this call?"},
            # A confirmation dialog shows only plain_text (Slack's reference).
            "text": {
                "type": "plain_text",
                "text": plain_text(
                    f"{capsule.tool} with hash {view.args_sha256[:12]} will run once.", 300
                ),
            },
            "confirm": {"type": "plain_text", "text": "Approve"},
            "deny": {"type": "plain_text", "text": "Cancel"},
        }
    edit = edit_button(view) if with_edit else None
    deny = {
        "type": "button",
        "action_id": DENY,
        "style": "danger",
        "text": {"type": "plain_text", "text": "Deny"},
        "value": capsule.id,
    }
    return {
        "type": "actions",
        "block_id": block_id,
        "elements": [*([approve] if with_approve else []), *([edit] if edit else []), deny],
    }
