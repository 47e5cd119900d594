"""A turn's tool calls as the task steps of its streamed reply (``task_update`` chunks),
and what a finished message keeps of them.

Slack takes no step updates once a message is finished (``chat.stopStream``) and shows the
last it was told for as long as the message lasts, so the last word on each step must
stay true for good:

- a call that asked for a person's approval is "Approval requested for <tool>", done: the
  request was made, whenever and however it is decided. Its card, which is updated then,
  says the rest; "waiting for approval" would outlive the wait by days;
- a call still running when its message is finished (one that outlasted the wait for it)
  is "pending", "still running when this message was finished", not a spinner for ever;
- a call that never ran (a person's stop, the kill switch) is an error "not run", said by
  the loop (``agent_core.live_steps``).

Slack adds a step's new ``details`` to those it shows (with no separator) rather than
replacing them, so a step's details are said once: a message is finished with only what
Slack does not show yet (``unsaid``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from agent_core.live import ToolStep

from .slack_text import tool_label

__all__ = [
    "STILL_RUNNING",
    "asked_approval",
    "finished",
    "task_chunk",
    "task_update",
    "unsaid",
]

STILL_RUNNING = "still running when this message was finished"
_TASK_STATUS = {"running": "in_progress", "done": "complete", "failed": "error"}


def task_update(call_id: str, title: str, status: str, details: str = "") -> dict[str, Any]:
    chunk: dict[str, Any] = {"type": "task_update", "id": call_id, "title": title, "status": status}
    if details:
        chunk["details"] = details
    return chunk


def asked_approval(call_id: str, label: str) -> dict[str, Any]:
    return task_update(call_id, f"Approval requested for {label}", "complete")


def task_chunk(step: ToolStep) -> dict[str, Any]:
    label = tool_label(step.tool)
    if step.status == "waiting":
        return asked_approval(step.call_id, label)
    return task_update(step.call_id, label, _TASK_STATUS[step.status], step.detail)


def finished(chunks: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The steps a message is finished with: a step still running is said to be so then."""
    return [
        {**c, "status": "pending", "details": STILL_RUNNING} if c["status"] == "in_progress" else c
        for c in chunks
    ]


def unsaid(
    chunks: Iterable[dict[str, Any]], shown: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """``chunks`` less what Slack shows already (``shown``: each step as Slack last took
    it): a step unchanged is not sent again, nor details it shows already. (A step's
    details only ever go from none to some: sent anew, they would be added to the old.)"""
    out = []
    for chunk in chunks:
        before = shown.get(chunk["id"])
        if before == chunk:
            continue
        if before is not None and "details" in chunk and before.get("details") == chunk["details"]:
            chunk = {k: v for k, v in chunk.items() if k != "details"}
        out.append(chunk)
    return out
