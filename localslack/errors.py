"""Error types: Web API failures (wire-visible) versus misuse of the control API."""

from __future__ import annotations

from typing import Any

__all__ = ["ControlError", "SlackError"]


class SlackError(Exception):
    """A Web API failure rendered as Slack does: HTTP 200 with ok=false unless status says
    otherwise (429 for rate limits)."""

    def __init__(
        self,
        code: str,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.code, **self.extra}


class ControlError(Exception):
    """A test asked for something impossible (unknown user, no such button...)."""

    def __init__(self, code: str, detail: str = "", *, status: int = 400) -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.status = status
