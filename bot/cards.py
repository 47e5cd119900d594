"""Approval cards in Block Kit.

A card shows the tool, the arguments (truncated safely; the full call is one click away
in the trace), who asked and why, when it expires and a short hash of the exact call.
The buttons carry only the approval id. A decided card has no buttons left: the outcome,
who and when replace them. Block ids change with each version of the card, as Slack
asks, so clients redraw it.
"""

from __future__ import annotations

import json
from typing import Any

from approvals import Capsule, Decision

__all__ = ["APPROVE", "DENY", "DENY_MODAL", "card_blocks", "deny_modal", "fallback_text"]

APPROVE = "signoff_approve"
DENY = "signoff_deny"
DENY_MODAL = "signoff_deny_reason"
_ARGS_LIMIT = 1500
_TEXT_LIMIT = 2900  # section text is capped at 3000 characters


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _arguments(capsule: Capsule) -> str:
    shown = json.dumps(capsule.arguments, indent=1, ensure_ascii=False, sort_keys=True)
    if len(shown) > _ARGS_LIMIT:
        shown = (
            shown[:_ARGS_LIMIT]
            + f"\n… ({len(shown) - _ARGS_LIMIT} more characters; full call in the trace)"
        )
    # Backticks inside a code block would end it early.
    return "```" + _escape(shown).replace("```", "ˋˋˋ") + "```"


_HINTS = {
    "readOnlyHint": ("read-only", "not read-only"),
    "destructiveHint": ("destructive", "not destructive"),
    "idempotentHint": ("idempotent", "not idempotent"),
    "openWorldHint": ("open world", "closed world"),
}


def _hints(capsule: Capsule) -> str:
    """The tool's own hints (an MCP server's annotations): shown, never what gates it."""
    words = [
        _HINTS[key][0 if value else 1]
        for key, value in capsule.tool_annotations.items()
        if key in _HINTS and isinstance(value, bool)
    ]
    return f"Tool says (unverified): {', '.join(words)}" if words else ""


def fallback_text(capsule: Capsule, decision: Decision | None = None) -> str:
    if decision is None:
        return f"Approval needed: {capsule.tool} (requested by <@{capsule.requester}>)"
    return f"{capsule.tool}: {decision.verdict}"


def _outcome(capsule: Capsule, decision: Decision) -> str:
    who = ", ".join("signoff" if d == "signoff" else f"<@{d}>" for d in decision.deciders)
    icon = {"approved": "✅ Approved", "denied": "🚫 Denied", "expired": "⌛ Expired"}[
        decision.verdict
    ]
    if decision.verdict == "expired" or decision.deciders == ("signoff",):
        line = f"{icon}: no decision before {capsule.expires_at}"
    else:
        line = f"{icon} by {who} at {decision.at}"
    if decision.reason and decision.deciders != ("signoff",):
        line += f"\n>{_escape(_clip(decision.reason, 500))}"
    return line


def card_blocks(
    capsule: Capsule, decision: Decision | None = None, *, votes: int = 0
) -> list[dict[str, Any]]:
    version = decision.verdict if decision else f"open{votes}"
    reason = _escape(_clip(capsule.reason, 600)) if capsule.reason else "_no reason given_"
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "block_id": f"h-{version}",
            "text": {"type": "plain_text", "text": _clip(f"Approval needed: {capsule.tool}", 150)},
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
                {"type": "mrkdwn", "text": f"*Requested by*\n<@{capsule.requester}>"},
                {
                    "type": "mrkdwn",
                    "text": f"*Approvers*\n{_clip(_escape(capsule.policy.describe()), 1900)}",
                },
                {"type": "mrkdwn", "text": f"*Expires*\n{capsule.expires_at}"},
                {"type": "mrkdwn", "text": f"*Call hash*\n`{capsule.short_hash}`"},
            ],
        },
        {
            "type": "context",
            "block_id": f"why-{version}",
            "elements": [{"type": "mrkdwn", "text": _clip(f"Why: {reason}", 2900)}],
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
                "text": {"type": "mrkdwn", "text": _outcome(capsule, decision)},
            }
        )
        return blocks
    if capsule.policy.quorum > 1:
        blocks.append(
            {
                "type": "context",
                "block_id": f"votes-{version}",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"{votes} of {capsule.policy.quorum} approvals so far",
                    }
                ],
            }
        )
    blocks.append(
        {
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
                            "text": f"`{capsule.tool}` with hash `{capsule.short_hash}` will run once.",
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
    )
    return blocks


def deny_modal(capsule: Capsule, *, channel: str) -> dict[str, Any]:
    """The modal that asks for a deny reason; it remembers the request and the channel."""
    return {
        "type": "modal",
        "callback_id": DENY_MODAL,
        "private_metadata": f"{capsule.id}|{channel}",
        "title": {"type": "plain_text", "text": "Deny request"},
        "submit": {"type": "plain_text", "text": "Deny"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"Deny `{capsule.tool}` (hash `{capsule.short_hash}`)?",
                },
            },
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
