"""Approval cards in Block Kit, rendered from what is on disk when they are sent.

A card shows the tool, the arguments (truncated safely; the full call is in the trace),
who asked and why, who may approve, when it expires and a short hash of the exact call.
The buttons carry only the approval id. A decided card has no buttons left: the outcome,
who and when replace them, and once the call ran, how it ended. Block ids change with
each version of the card, as Slack asks, so clients redraw it.

All text a person or a model wrote goes through ``slack_text.escape``.
"""

from __future__ import annotations

import json
from typing import Any

from agent_core.surface import CardView
from approvals import SYSTEM, Capsule

from .slack_text import (
    Mrkdwn,
    code_block,
    escape,
    escape_reply,
    join,
    literal,
    mention,
    mentions,
    plain_text,
)

__all__ = ["APPROVE", "DENY", "DENY_MODAL", "card_blocks", "deny_modal", "fallback_text"]

APPROVE = "signoff_approve"
DENY = "signoff_deny"
DENY_MODAL = "signoff_deny_reason"
_ARGS_LIMIT = 1500
_TEXT_LIMIT = 2900  # section text is capped at 3000 characters


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _arguments(capsule: Capsule) -> Mrkdwn:
    shown = json.dumps(capsule.arguments, indent=1, ensure_ascii=False, sort_keys=True)
    if len(shown) > _ARGS_LIMIT:
        shown = (
            shown[:_ARGS_LIMIT]
            + f"\n… ({len(shown) - _ARGS_LIMIT} more characters; full call in the trace)"
        )
    return code_block(shown)


_HINTS = {
    "readOnlyHint": ("read-only", "not read-only"),
    "destructiveHint": ("destructive", "not destructive"),
    "idempotentHint": ("idempotent", "not idempotent"),
    "openWorldHint": ("open world", "closed world"),
}


def _hints(capsule: Capsule) -> Mrkdwn:
    """The tool's own hints (an MCP server's annotations): shown, never what gates it."""
    words = [
        _HINTS[key][0 if value else 1]
        for key, value in capsule.tool_annotations.items()
        if key in _HINTS and isinstance(value, bool)
    ]
    return literal(f"Tool says (unverified): {', '.join(words)}" if words else "")


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


def _approvers(capsule: Capsule) -> Mrkdwn:
    rule = capsule.policy
    who = mentions([*rule.approver_users, *rule.approver_groups]) or literal("anyone")
    self_part = "" if rule.allow_self_approval else ", not the requester"
    return join(literal(f"{rule.quorum} of "), who, literal(self_part))


def _outcome(view: CardView) -> Mrkdwn:
    capsule, decision = view.capsule, view.decision
    assert decision is not None
    icon = {"approved": "✅ Approved", "denied": "🚫 Denied", "expired": "⌛ Expired"}[
        decision.verdict
    ]
    if decision.verdict == "expired" or decision.deciders == (SYSTEM,):
        line = literal(f"{icon}: no decision before {capsule.expires_at}")
    else:
        line = join(
            literal(f"{icon} by "), mentions(decision.deciders), literal(f" at {decision.at}")
        )
    if decision.reason and decision.deciders != (SYSTEM,):
        # Deciders may be mentioned in a reason ("stopped from Slack by <@U…>"); no one else.
        line = join(
            line,
            literal("\n>"),
            escape_reply(_clip(decision.reason, 500), people=decision.deciders),
        )
    if view.result is not None:
        ran = "ran: ok" if view.result.ok else "ran: failed"
        line = join(line, literal(f"\n_{ran} at {view.result.at}_"))
    return line


def card_blocks(view: CardView) -> list[dict[str, Any]]:
    capsule, decision = view.capsule, view.decision
    votes = len(view.voters)
    version = f"{decision.verdict}{'-ran' if view.result else ''}" if decision else f"open{votes}"
    reason = escape(_clip(capsule.reason, 600)) if capsule.reason else literal("_no reason given_")
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "block_id": f"h-{version}",
            "text": {
                "type": "plain_text",
                "text": plain_text(f"Approval needed: {capsule.tool}", 150),
            },
        },
        {
            "type": "section",
            "block_id": f"args-{version}",
            "text": {"type": "mrkdwn", "text": _clip(_arguments(capsule), _TEXT_LIMIT)},
        },
        {
            "type": "section",
            "block_id": f"who-{version}",
            "fields": [
                {
                    "type": "mrkdwn",
                    "text": join(literal("*Requested by*\n"), mention(capsule.requester)),
                },
                {
                    "type": "mrkdwn",
                    "text": _clip(join(literal("*Approvers*\n"), _approvers(capsule)), 1900),
                },
                {"type": "mrkdwn", "text": f"*Expires*\n{capsule.expires_at}"},
                {"type": "mrkdwn", "text": f"*Call hash*\n`{capsule.short_hash}`"},
            ],
        },
        {
            "type": "context",
            "block_id": f"why-{version}",
            "elements": [{"type": "mrkdwn", "text": _clip(join(literal("Why: "), reason), 2900)}],
        },
    ]
    hints = _hints(capsule)
    if hints:
        blocks.append(
            {
                "type": "context",
                "block_id": f"hints-{version}",
                "elements": [{"type": "mrkdwn", "text": _clip(hints, 2900)}],
            }
        )
    if decision is not None:
        blocks.append({"type": "divider", "block_id": f"div-{version}"})
        blocks.append(
            {
                "type": "section",
                "block_id": f"outcome-{version}",
                "text": {"type": "mrkdwn", "text": _clip(_outcome(view), _TEXT_LIMIT)},
            }
        )
        return blocks
    if capsule.policy.quorum > 1:
        so_far = join(literal(f"{votes} of {capsule.policy.quorum} approvals so far"))
        if view.voters:
            so_far = join(so_far, literal(": "), mentions(view.voters))
        blocks.append(
            {
                "type": "context",
                "block_id": f"votes-{version}",
                "elements": [{"type": "mrkdwn", "text": so_far}],
            }
        )
    blocks.append(_buttons(capsule, version))
    return blocks


def _buttons(capsule: Capsule, version: str) -> dict[str, Any]:
    tool = escape(capsule.tool)
    return {
        "type": "actions",
        "block_id": f"act-{version}",
        "elements": [
            {
                "type": "button",
                "action_id": APPROVE,
                "style": "primary",
                "text": {"type": "plain_text", "text": "Approve"},
                "value": capsule.id,
                "confirm": {
                    "title": {"type": "plain_text", "text": "Run this call?"},
                    "text": {
                        "type": "mrkdwn",
                        "text": join(
                            literal("`"),
                            tool,
                            literal(f"` with hash `{capsule.short_hash}` will run once."),
                        ),
                    },
                    "confirm": {"type": "plain_text", "text": "Approve"},
                    "deny": {"type": "plain_text", "text": "Cancel"},
                },
            },
            {
                "type": "button",
                "action_id": DENY,
                "style": "danger",
                "text": {"type": "plain_text", "text": "Deny"},
                "value": capsule.id,
            },
        ],
    }


def deny_modal(capsule: Capsule) -> dict[str, Any]:
    """The modal that asks for a deny reason; the bot records its view id when it opens."""
    question = join(
        literal("Deny `"), escape(capsule.tool), literal(f"` (hash `{capsule.short_hash}`)?")
    )
    return {
        "type": "modal",
        "callback_id": DENY_MODAL,
        "private_metadata": capsule.id,
        "title": {"type": "plain_text", "text": "Deny request"},
        "submit": {"type": "plain_text", "text": "Deny"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": question}},
            {
                "type": "input",
                "block_id": "reason",
                "optional": True,
                "label": {"type": "plain_text", "text": "Reason (the agent will see it)"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "reason",
                    "multiline": True,
                    "max_length": 1000,
                },
            },
        ],
    }
