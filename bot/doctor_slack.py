"""``signoff doctor``'s Slack share: the tokens as ``signoff run`` will use them.

The bot token: ``auth.test`` says who it is, and its ``x-oauth-scopes`` header which scopes
the install granted; one that manifest.yml asks for and the install lacks fails only later,
at run time, where it is needed (an upload, ``/signoff``, a group's members) with
``missing_scope``. The app token: ``apps.connections.open`` answers with a Socket Mode URL,
which is not opened, so a running bot keeps its connections. Nothing is posted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from .config import Settings
from .slack_errors import what_slack_said
from .token_check import app_token_refusal
from .web_clients import web_client

__all__ = ["NEEDED_SCOPES", "Check", "check_slack"]

# manifest.yml's bot scopes (tests/test_doctor_slack.py holds the two equal).
NEEDED_SCOPES = (
    "app_mentions:read",
    "channels:history",
    "groups:history",
    "im:history",
    "mpim:history",
    "channels:read",
    "groups:read",
    "im:read",
    "mpim:read",
    "chat:write",
    "commands",
    "reactions:write",
    "files:write",
    "usergroups:read",
    "users:read",
)


@dataclass(frozen=True)
class Check:
    """One line of ``signoff doctor``: what was checked, and whether it is fine."""

    ok: bool
    line: str  # "SLACK_BOT_TOKEN: …", without the verdict


def _unreachable(client: AsyncWebClient, exc: BaseException, method: str) -> str:
    said = "no answer in time (SIGNOFF_SLACK_TIMEOUT_S)" if isinstance(exc, TimeoutError) else exc
    return f"could not reach Slack at {client.base_url} (SLACK_API_URL) for {method}: {said}"


async def _bot(settings: Settings, token: str) -> Check:
    client = web_client(token, settings.slack_api_url, timeout=settings.slack_timeout_s)
    started = time.perf_counter()
    try:
        answer = await client.auth_test()
    except SlackApiError as exc:
        return Check(
            False, f"SLACK_BOT_TOKEN: Slack refused it (auth.test: {what_slack_said(exc)})"
        )
    except (aiohttp.ClientError, OSError) as exc:
        return Check(False, f"SLACK_BOT_TOKEN: {_unreachable(client, exc, 'auth.test')}")
    ms = (time.perf_counter() - started) * 1000
    who = f"{answer.get('user') or '?'} ({answer.get('user_id') or '?'}) in {answer.get('team_id')}"
    said = next((v for k, v in answer.headers.items() if k.lower() == "x-oauth-scopes"), None)
    if said is None:  # a proxy that drops it: unknown, not every scope missing
        return Check(True, f"SLACK_BOT_TOKEN: {who} (Slack did not say its scopes; {ms:.0f} ms)")
    missing = sorted(set(NEEDED_SCOPES) - {s.strip() for s in str(said).split(",")})
    if missing:
        return Check(
            False,
            f"SLACK_BOT_TOKEN: {who}, but the install lacks {', '.join(missing)}, which "
            "manifest.yml asks for: update the app from manifest.yml and reinstall it",
        )
    return Check(True, f"SLACK_BOT_TOKEN: {who}, every scope manifest.yml asks for ({ms:.0f} ms)")


async def _app(settings: Settings, token: str) -> Check:
    client = web_client(token, settings.slack_api_url, timeout=settings.slack_timeout_s)
    try:
        await client.apps_connections_open(app_token=token)
    except SlackApiError as exc:
        refusal = app_token_refusal(exc) or f"apps.connections.open: {what_slack_said(exc)}"
        why = refusal.removeprefix("Slack refused SLACK_APP_TOKEN ")
        return Check(False, f"SLACK_APP_TOKEN: Slack refused it {why}")
    except (aiohttp.ClientError, OSError) as exc:
        return Check(
            False, f"SLACK_APP_TOKEN: {_unreachable(client, exc, 'apps.connections.open')}"
        )
    return Check(True, "SLACK_APP_TOKEN: Slack opens Socket Mode connections for it")


async def check_slack(settings: Settings) -> list[Check]:
    """One check per token; none when neither is set (``signoff dev`` needs none). One set
    without the other is a problem: ``signoff run`` will not start without both."""
    bot, app = settings.slack_bot_token, settings.slack_app_token
    if bot is None and app is None:
        return []
    return [
        await _bot(settings, bot.get_secret_value())
        if bot is not None
        else _unset("SLACK_BOT_TOKEN"),
        await _app(settings, app.get_secret_value())
        if app is not None
        else _unset("SLACK_APP_TOKEN"),
    ]


def _unset(name: str) -> Check:
    return Check(False, f"{name}: not set: signoff run needs both Slack tokens")
