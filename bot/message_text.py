"""What a person's message says, as the inbox keeps it (a message and its edits alike)."""

from __future__ import annotations

import html
from collections.abc import Sequence

from .event_payloads import SharedFile

__all__ = ["message_text"]


def message_text(text: str | None, files: Sequence[SharedFile]) -> str:
    """What the person wrote: Slack escapes &, < and > in message text, and the inbox keeps
    what they typed. A message with no text (files shared without a comment) says what it
    held instead: an empty one never reaches the model, which then had nothing to answer
    (the API refuses a request without messages) or only its own last answer to go on
    with (and answered itself)."""
    typed = html.unescape(text or "")
    if typed.strip():
        return typed
    if not files:
        return "(a message with no text)"
    names = [f.name for f in files if f.name]
    count, shared_files = len(files), "file" if len(files) == 1 else "files"
    if len(names) == count:
        shared = f"the {shared_files} {', '.join(names)}"
    elif names:
        shared = f"{count} files: {', '.join(names)} and {count - len(names)} without a name"
    else:
        shared = f"{count} {shared_files}"
    return f"(no text: shared {shared}, which signoff cannot open)"
