"""Whether Slack still takes the bot token while signoff runs: a check for ``/readyz``.

Start-up checks the token once (``token_check``). A token revoked later (the app
uninstalled, the token rotated, the workspace gone) makes every Web API call fail with an
error about the token, while the Socket Mode link, on the app token, stays up: without
this check ``/readyz`` said ready while nothing reached Slack. It watches every attempt the
observed clients make; the outbox keeps what it could not send, so a reinstall (a new token
and a restart) sends it.
"""

from __future__ import annotations

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
    """An observer: the last refusal of the bot token, until a call with it succeeds."""

    def __init__(self) -> None:
        self._refused: str | None = None

    def emit(self, event: Event) -> None:
        if not isinstance(event, SlackApiCall) or event.method in _NOT_THE_BOT_TOKEN:
            return
        if event.outcome == "ok":
            self._refused = None
        elif event.outcome == "error" and event.error in TOKEN_REFUSED:
            self._refused = (
                f"Slack refuses SLACK_BOT_TOKEN ({event.method}: {event.error}); replies wait "
                "in the outbox: reinstall the app and restart with its new token"
            )

    async def check(self) -> str | None:
        return self._refused
