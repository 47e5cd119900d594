"""Whether Slack still takes the bot token while signoff runs: a check for ``/readyz``.

Start-up checks the token once (``token_check``). A token revoked later (the app
uninstalled, the token rotated, the workspace gone) makes every Web API call fail with an
error about the token, while the Socket Mode link, on the app token, stays up: without
this check ``/readyz`` said ready while nothing reached Slack. It watches every attempt the
observed clients make; the outbox keeps what it could not send, so a reinstall (a new token
and a restart) sends it. A quiet bot makes no call that could be refused, so when none
was answered for a period, the check asks Slack itself (``auth.test``), once a period
however often ``/readyz`` is polled.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from agent_core.observe import Event, SlackApiCall

__all__ = ["TOKEN_REFUSED", "BotTokenWatch"]

# Slack's answers that refuse the token itself, whatever the method (api.slack.com's
# "errors" common to every method); a scope missing for one method is not here.
TOKEN_REFUSED = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)
# Not called with the bot token: the Socket Mode client's (the app token), and a file's
# upload URL (slack_calls labels it "other"; it is signed, no token).
_NOT_THE_BOT_TOKEN = frozenset({"apps.connections.open", "other"})


class BotTokenWatch:
    """An observer: the last refusal of the bot token, until a call with it succeeds.

    ``probe`` (an observed client's ``auth_test``) is called by ``check`` when no call
    with the token was answered for ``every`` seconds; its answer arrives through ``emit``
    like any other. One that gets no answer in ``within`` seconds changes nothing: Slack
    out of reach is the socket check's to report.
    """

    def __init__(
        self,
        *,
        probe: Callable[[], Awaitable[object]] | None = None,
        every: float = 60.0,
        # Inside the 2 s /readyz gives each check: cut there first, no answer read as
        # "slack: no answer", a 503 that is the socket check's to report.
        within: float = 1.5,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.probe = probe
        self.every = every
        self.within = within
        self._now = now
        self._refused: str | None = None
        self._answered = -every  # never: the first check asks

    def emit(self, event: Event) -> None:
        if not isinstance(event, SlackApiCall) or event.method in _NOT_THE_BOT_TOKEN:
            return
        if event.outcome in ("ok", "error"):
            self._answered = self._now()
        if event.outcome == "ok":
            self._refused = None
        elif event.outcome == "error" and event.error in TOKEN_REFUSED:
            self._refused = (
                f"Slack refuses SLACK_BOT_TOKEN ({event.method}: {event.error}); replies wait "
                "in the outbox: reinstall the app and restart with its new token"
            )

    async def check(self) -> str | None:
        if self.probe is not None and self._now() - self._answered >= self.every:
            self._answered = self._now()  # one question a period, however many ask
            # A refusal came through emit; no answer in time (TimeoutError) changes nothing.
            # asyncio.timeout, not wait_for: that can swallow a cancel of /readyz's check.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.within):
                    await self.probe()
        return self._refused
