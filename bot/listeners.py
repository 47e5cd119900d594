"""One guard around every Bolt listener: nothing escapes it, and the ack is never lost.

Bolt runs a listener as a task and polls every 10 ms for its ack. When the listener
raises after ``ack()`` but before that poll saw it, Bolt takes the ack back
(``ack.response = None``): the envelope goes unacked, Slack shows the person an error 3 s
later, and Bolt logs a traceback that quotes the payload. Any exception can do it: a
``views.open`` whose connection dropped (an aiohttp error, not a ``SlackApiError``), a
timeout, a disk error right after a modal opened.

So every listener is registered through :func:`guarded`. An exception it lets out is
caught here: the request is acked if it was not yet, the person who is waiting (a click,
a slash command, a form) is told something went wrong, and one log line says which
listener failed, how, and the ids involved (the traceback, which may quote what people
typed, only at DEBUG).
"""

from __future__ import annotations

import errno
import inspect
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.errors import SlackApiError

from .slack_calls import posting
from .slack_errors import slack_error
from .slack_fields import shown
from .slack_text import literal
from .unreadable_answers import notice_view

__all__ = [
    "OUTSIDE",
    "SORRY",
    "ResponseUrlRefused",
    "failure",
    "guarded",
    "respond_ephemeral",
    "who",
]

log = logging.getLogger("signoff.listeners")

Listener = Callable[..., Awaitable[None]]
SORRY = (
    "Something went wrong on signoff's side and that was not done; please try again. "
    "An operator can find it in signoff's log as `{ref}`."
)


class ResponseUrlRefused(Exception):
    """Slack refused a post to a ``response_url`` (spent, expired, an outage)."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(f"HTTP {status} {error}".strip())
        self.status, self.error = status, error


# Failures of the world outside (Slack, the network, the disk), as opposed to our bugs.
OUTSIDE = (SlackApiError, OSError, aiohttp.ClientError, ResponseUrlRefused)


async def respond_ephemeral(respond: Any, text: str) -> None:
    """Answer by the ``response_url`` only to the person, or raise ``ResponseUrlRefused``:
    Bolt's ``respond`` returns Slack's answer instead of raising, so a spent or expired
    URL (404 ``used_url``, ``expired_url``) or a 5xx lost the answer without a word."""
    response = await respond(text=text, response_type="ephemeral", replace_original=False)
    status = getattr(response, "status_code", 200)
    if status == 200:
        return
    body = getattr(response, "body", "")
    try:
        said = json.loads(body).get("error", "") if isinstance(body, str) else ""
    except (ValueError, AttributeError):
        said = ""  # an outage's page, not Slack's JSON: its status says enough
    raise ResponseUrlRefused(status, shown(said, 40)[1:-1] if isinstance(said, str) else "")


def guarded(listener: Listener) -> Callable[[AsyncArgs], Awaitable[None]]:
    """``listener`` as Bolt calls it (with the arguments it names), guarded as above."""
    names = tuple(inspect.signature(listener).parameters)

    async def run(args: AsyncArgs) -> None:
        try:
            await listener(**{name: getattr(args, name) for name in names})
        except Exception as exc:
            await _failed(listener.__name__, args, exc)

    # Bolt names the listener in its own log lines by this.
    run.__name__ = run.__qualname__ = listener.__name__
    return run


def who(body: dict[str, Any]) -> str | None:
    """The id of the person behind an interaction or command, if the payload says."""
    user = body.get("user")
    found = user.get("id") if isinstance(user, dict) else body.get("user_id")
    return found if isinstance(found, str) and found else None


def _ids(body: dict[str, Any]) -> dict[str, Any]:
    """The ids that tell an operator which request this was: nothing people typed."""
    channel = body.get("channel")
    container = body.get("container")
    view = body.get("view")
    actions = body.get("actions")
    found: dict[str, Any] = {
        "user": who(body),
        "team": (body.get("team") or {}).get("id")
        if isinstance(body.get("team"), dict)
        else body.get("team_id"),
        "channel": channel.get("id") if isinstance(channel, dict) else body.get("channel_id"),
        "message_ts": container.get("message_ts") if isinstance(container, dict) else None,
        "action": actions[0].get("action_id")
        if isinstance(actions, list) and actions and isinstance(actions[0], dict)
        else None,
        "view": view.get("id") if isinstance(view, dict) else None,
        "callback": (view.get("callback_id") if isinstance(view, dict) else None)
        or body.get("callback_id"),
        "command": body.get("command"),
    }
    if found["channel"] is None and isinstance(container, dict):
        found["channel"] = container.get("channel_id")
    return {key: value for key, value in found.items() if value}


def failure(exc: BaseException) -> str:
    """The exception, without its message where that could quote a payload or a reply."""
    name = type(exc).__name__
    if isinstance(exc, SlackApiError):
        said = slack_error(exc)
        return f"{name} ({shown(said, 40)})" if said else f"{name} (not a Slack answer)"
    if isinstance(exc, ResponseUrlRefused):
        return f"{name} ({exc})"
    code = exc.errno if isinstance(exc, OSError) else None
    if code is not None and code in errno.errorcode:
        return f"{name} ({errno.errorcode[code]})"
    return name


async def _failed(name: str, args: AsyncArgs, exc: Exception) -> None:
    body = args.body if isinstance(args.body, dict) else {}
    ref = secrets.token_hex(4)
    acked_before = args.ack.response is not None
    told = await _tell(args, body, SORRY.format(ref=ref))
    ids = " ".join(f"{key}={shown(value, 40)}" for key, value in _ids(body).items())
    when = "after its ack" if acked_before else "before its ack"
    level = logging.WARNING if isinstance(exc, OUTSIDE) else logging.ERROR
    log.log(
        level, "listener %s failed %s: %s [%s] ref=%s; %s", name, when, failure(exc), ids, ref, told
    )
    log.debug("listener %s failed (ref=%s)", name, ref, exc_info=exc)


async def _tell(args: AsyncArgs, body: dict[str, Any], text: str) -> str:
    """Ack if nothing did yet, and tell the person; says how (for the log line)."""
    try:
        if args.ack.response is None:
            if body.get("type") == "view_submission":
                # The form is still open: show the answer in it.
                await args.ack(response_action="update", view=notice_view(literal(text)))
                return "told them in the form"
            await args.ack()
        user = who(body)
        if isinstance(body.get("response_url"), str):
            await respond_ephemeral(args.respond, text)
            return "told them by response_url"
        channel = _ids(body).get("channel")
        if user and isinstance(channel, str):
            await posting(args.client).chat_postEphemeral(channel=channel, user=user, text=text)
            return "told them ephemerally"
        if user:
            # A Home tab click or a closed form: no channel to answer in but their DM.
            await posting(args.client).chat_postMessage(channel=user, text=text)
            return "told them in a direct message"
        return "nobody to tell"
    except Exception as again:
        return f"could not tell them: {failure(again)}"
