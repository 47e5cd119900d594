"""Modals that ask for a decision's reason: Approve where the policy says
``require_reason``, and Deny (``bot/cards.py``).

The Approve modal names the hash of the arguments it asks about; the bot records that with
the view, so the approval counts for exactly those arguments.
"""

from __future__ import annotations

from typing import Any

from approvals import Capsule

from .slack_text import MAX_REASON, Mrkdwn, escape, join, literal, mrkdwn_object

__all__ = ["APPROVE_MODAL", "DENY_MODAL", "approve_modal", "deny_modal", "reason_modal"]

APPROVE_MODAL = "signoff_approve_reason"
DENY_MODAL = "signoff_deny_reason"


def approve_modal(capsule: Capsule, *, args_sha256: str) -> dict[str, Any]:
    question = join(
        literal("Approve `"),
        escape(capsule.tool),
        literal(f"` with hash `{args_sha256[:12]}`? It runs once. This tool needs a reason."),
    )
    return reason_modal(
        callback_id=APPROVE_MODAL, approval_id=capsule.id, verb="Approve", question=question
    )


def reason_modal(
    *, callback_id: str, approval_id: str, verb: str, question: Mrkdwn, optional: bool = False
) -> dict[str, Any]:
    """A modal asking for a decision's reason; ``question`` is rendered Slack text."""
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": approval_id,
        "title": {"type": "plain_text", "text": f"{verb} request"},
        "submit": {"type": "plain_text", "text": verb},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "section", "text": mrkdwn_object(question)},
            {
                "type": "input",
                "block_id": "reason",
                "optional": optional,
                "label": {"type": "plain_text", "text": "Reason (the agent will see it)"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "reason",
                    "multiline": True,
                    "max_length": MAX_REASON,
                },
            },
        ],
    }


def deny_modal(capsule: Capsule, *, reason_required: bool = False) -> dict[str, Any]:
    """The modal that asks for a deny reason; the bot records its view id when it opens."""
    question = join(
        literal("Deny `"), escape(capsule.tool), literal(f"` (hash `{capsule.short_hash}`)?")
    )
    return reason_modal(
        callback_id=DENY_MODAL,
        approval_id=capsule.id,
        verb="Deny",
        question=question,
        optional=not reason_required,
    )
