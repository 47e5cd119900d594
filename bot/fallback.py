"""Acks for the interactions and commands no other listener takes.

Bolt never acks a request without a matching listener, so Slack would show the person an
error (a button from an old card, a modal or shortcut signoff no longer has, a command
from an older manifest). These listeners ack each kind and leave one log line.
Register them last: Bolt runs only the first listener that matches.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.app.async_app import AsyncApp

from .listeners import guarded, who
from .slack_fields import shown

__all__ = ["register_fallbacks"]

log = logging.getLogger("signoff.fallback")

# Payloads reach Bolt only after bot/payloads.py checked them, so the ids matched here
# are strings.
_ANY = re.compile(r"")


def _who(body: dict[str, Any]) -> str:
    return shown(who(body), 20)


def register_fallbacks(app: AsyncApp) -> None:
    async def on_action(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        actions = body.get("actions") or [{}]
        log.info(
            "ignored action_id %s from %s: no listener for it",
            shown(actions[0].get("action_id")),
            _who(body),
        )

    async def on_view(ack: Any, body: dict[str, Any]) -> None:
        # A bare ack closes the modal, which is all signoff can do with one it does not know.
        await ack()
        view = body.get("view") or {}
        log.info(
            "ignored %s of view %s from %s: no listener for it",
            shown(body.get("type"), 20),
            shown(view.get("callback_id")),
            _who(body),
        )

    async def on_shortcut(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        log.info(
            "ignored shortcut %s from %s: signoff has no shortcuts",
            shown(body.get("callback_id")),
            _who(body),
        )

    async def on_options(ack: Any, body: dict[str, Any]) -> None:
        await ack(options=[])
        log.info(
            "answered options for %s from %s with none: no listener for it",
            shown(body.get("action_id")),
            _who(body),
        )

    async def on_command(ack: Any, body: dict[str, Any]) -> None:
        # The payload check allowed only [A-Za-z0-9_.-] after the slash: safe to echo.
        command = str(body.get("command"))
        await ack(text=f"signoff has no `{command}` command; try `/signoff help`.")
        log.info("answered unknown command %s from %s", shown(command), _who(body))

    app.action(_ANY)(guarded(on_action))
    app.view(_ANY)(guarded(on_view))
    app.view_closed(_ANY)(guarded(on_view))
    app.shortcut(_ANY)(guarded(on_shortcut))
    app.options(_ANY)(guarded(on_options))
    app.command(_ANY)(guarded(on_command))
