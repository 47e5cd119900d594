"""Which of Slack's AI-app surfaces this workspace offers, learnt by using them.

signoff uses three: the thread's status line (``assistant.threads.setStatus``), agent
sessions with their stop button (``agents.sessions.setStatus``, for apps declared as
agents) and streamed replies (``chat.startStream`` and friends); and one older one, file
uploads (``files:write``), for a reply too long for a few messages. A workspace, plan,
token or app configuration without one answers with an error that says so; the first
such answer switches that surface off for the rest of the process, with one log line, and
signoff falls back to what it did before: the 👀 reaction instead of a status, plain
posts instead of a stream, no stop button, a long reply split into messages.
"""

from __future__ import annotations

import logging
from typing import Literal

from .slack_errors import slack_error

__all__ = ["LACKING", "SurfaceName", "SurfaceSupport", "lacking_error"]

log = logging.getLogger("signoff.slack")

SurfaceName = Literal["status", "sessions", "streams", "files"]

# Errors that mean "this workspace (or token, or app) does not have the method".
LACKING = frozenset(
    {"not_allowed_token_type", "unknown_method", "feature_not_enabled", "missing_scope"}
)

# What else says so for one surface: uploads a workspace's admins restricted.
_ALSO_LACKING: dict[SurfaceName, frozenset[str]] = {"files": frozenset({"restricted_action"})}

_FALLBACK: dict[SurfaceName, str] = {
    "status": "the 👀 reaction on the message instead of a status line",
    "sessions": "no agent session and no stop button",
    "streams": "replies posted whole instead of streamed",
    "files": "a long reply split into messages instead of attached as a file",
}


def lacking_error(exc: BaseException, also: frozenset[str] = frozenset()) -> str | None:
    """The error code if ``exc`` says the method is not available here."""
    error = slack_error(exc)
    return error if error and (error in LACKING or error in also) else None


class SurfaceSupport:
    def __init__(self) -> None:
        self._lacking: dict[SurfaceName, str] = {}

    def offers(self, surface: SurfaceName) -> bool:
        return surface not in self._lacking

    def lacks(self, surface: SurfaceName, *, method: str, error: str) -> None:
        """Switch ``surface`` off for this process; the first time, say so once."""
        if surface in self._lacking:
            return
        self._lacking[surface] = error
        log.warning(
            "Slack answered %s with %s: this workspace lacks it, so for as long as signoff "
            "runs: %s",
            method,
            error,
            _FALLBACK[surface],
        )

    def check(self, surface: SurfaceName, method: str, exc: BaseException) -> bool:
        """True (and the surface switched off) if ``exc`` says the surface is lacking."""
        error = lacking_error(exc, _ALSO_LACKING.get(surface, frozenset()))
        if error is None:
            return False
        self.lacks(surface, method=method, error=error)
        return True
