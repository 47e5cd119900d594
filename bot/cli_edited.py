"""What ``signoff pending`` says of a request whose arguments were edited.

An approval counts only for the arguments its approver saw, so after an edit ``approve``
needs ``--hash`` with the edited call's hash. ``pending`` listed such a request as it was
asked, with neither what it now does nor that hash; only a refusal gave it. Now its line
says who edited it, each changed argument as it is now and as it was asked, and the hash
to approve it with.
"""

from __future__ import annotations

import json
from typing import Any

from approvals import ApprovalRequest, ApprovalsError
from sessions import SessionsError

from .terminal_text import printable

__all__ = ["edited_text"]

# A long value is cut: the line is a pointer to the card and `signoff show`, not the call.
_VALUE_SHOWN = 60


def _value(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= _VALUE_SHOWN else text[: _VALUE_SHOWN - 1] + "…"


def edited_text(request: ApprovalRequest | None) -> str:
    """ "  edited by U0CAROL: replicas=8 (was 12); approve with --hash 1a2b…", or "" for
    a request never edited, or whose edits cannot be read (``approve`` refuses it, saying
    why)."""
    if request is None:
        return ""
    try:
        edits = request.edits()
        if not edits:
            return ""
        call = request.current()
    except (SessionsError, ApprovalsError, OSError):
        return ""
    asked = request.capsule.arguments
    changed = sorted(set(asked) | set(call.arguments))
    parts = []
    for name in changed:
        if name not in call.arguments:
            parts.append(f"{name} removed (was {_value(asked[name])})")
        elif name not in asked:
            parts.append(f"{name}={_value(call.arguments[name])} (added)")
        elif asked[name] != call.arguments[name]:
            parts.append(f"{name}={_value(call.arguments[name])} (was {_value(asked[name])})")
    editors = " ".join(dict.fromkeys(e.user for e in edits))
    what = ", ".join(parts) or "no argument changed"
    # As the files have it: a tampered one's escapes are shown, never acted on.
    return printable(f"  edited by {editors}: {what}; approve with --hash {call.short_hash}")
