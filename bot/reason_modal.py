"""The Approve modal of a tool whose policy says ``require_reason``: a reason, required.

It names the hash of the arguments it asks about; the bot records that with the view, so
the approval counts for exactly those arguments.
"""

from __future__ import annotations

from typing import Any

from approvals import Capsule

from .slack_text import escape, join, literal

__all__ = ["APPROVE_MODAL", "approve_modal"]

APPROVE_MODAL = "signoff_approve_reason"


def approve_modal(capsule: Capsule, *, args_sha256: str) -> dict[str, Any]:
    question = join(
        literal("Approve `"),
        escape(capsule.tool),
        literal(f"` with hash `{args_sha256[:12]}`? It runs once. This tool needs a reason."),
    )
    return {
        "type": "modal",
        "callback_id": APPROVE_MODAL,
        "private_metadata": capsule.id,
        "title": {"type": "plain_text", "text": "Approve request"},
        "submit": {"type": "plain_text", "text": "Approve"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": question}},
            {
                "type": "input",
                "block_id": "reason",
                "optional": False,
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
