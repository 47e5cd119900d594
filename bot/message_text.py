"""What a person's message says, as the inbox keeps it (a message and its edits alike)."""

from __future__ import annotations

import html
from collections.abc import Sequence

from .event_payloads import SharedFile, SharedMessage

__all__ = ["message_text"]


def message_text(
    text: str | None, files: Sequence[SharedFile], shared: Sequence[SharedMessage] = ()
) -> str:
    """What the person wrote: Slack escapes &, < and > in message text, and the inbox keeps
    what they typed. A message with no text (files shared without a comment) says what it
    held instead: an empty one never reaches the model, which then had nothing to answer
    (the API refuses a request without messages) or only its own last answer to go on
    with (and answered itself). A message it quotes (a forward: its own text is only the
    comment) follows what they typed, as a quote."""
    typed = html.unescape(text or "")
    quoted = "\n\n".join(_quoted(m) for m in shared)
    if typed.strip():
        return f"{typed}\n\n{quoted}" if quoted else typed
    if quoted:
        return f"{quoted}\n\n{_shared_files(files)}" if files else quoted
    if not files:
        return "(a message with no text)"
    return _shared_files(files)


def _quoted(message: SharedMessage) -> str:
    said = "\n".join(f"> {line}" for line in html.unescape(message.text).splitlines())
    author = html.unescape(message.author)
    return f"Shared message from {author}:\n{said}" if author else f"Shared message:\n{said}"


def _shared_files(files: Sequence[SharedFile]) -> str:
    names = [f.name for f in files if f.name]
    count, shared_files = len(files), "file" if len(files) == 1 else "files"
    if len(names) == count:
        shared = f"the {shared_files} {', '.join(names)}"
    elif names:
        shared = f"{count} files: {', '.join(names)} and {count - len(names)} without a name"
    else:
        shared = f"{count} {shared_files}"
    return f"(no text: shared {shared}, which signoff cannot open)"
