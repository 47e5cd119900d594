"""``signoff dev``: the whole bot in a browser, with no Slack workspace and no API key.

One process runs LocalSlack (a Slack-compatible server on loopback, with its browser UI)
and the real bot (Bolt on Socket Mode) against it, on the offline model and the demo
fleet, plus whatever ``SIGNOFF_CONFIG`` and ``SIGNOFF_TOOLS`` add (try a configured tool
with ``@signoff call <tool> key=value``). Everything persists under ``$SIGNOFF_HOME``: the bot's sessions as always, and the
chat itself in ``dev/localslack-state.json``, so a restart keeps every thread and card.

``--clock-offset 2d`` starts the engine (and the chat's clock) two days ahead: stop, start
again "days later", and approve a card from before.

LocalSlack knows nothing of signoff; the signoff pages (sessions, approvals, traces) are
routes this module hands it to serve next to the chat (see ``dev_pages``).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from localslack import LocalSlack, WorkspaceConfig
from localslack.ui import UiOptions
from sessions import Home

from .app import SignoffBot
from .config import ConfigError, Settings
from .dev_pages import DevPages
from .one_bot import one_bot_per_home
from .playground_policy import playground_policy_path
from .run import announce, signals_spent, stop_signals
from .tool_count import describe_tools

__all__ = [
    "DEV_APPROVALS_CHANNEL",
    "DEV_EVENTS",
    "DEV_POLICY",
    "OffsetClock",
    "dev_settings",
    "dev_workspace",
    "parse_offset",
    "run_dev",
]

log = logging.getLogger("signoff.dev")

# Written once into $SIGNOFF_HOME/dev/policy.toml when SIGNOFF_POLICY is not set. Requests
# wait a week (so "two days later" still finds them open); deploys need two approvals.
DEV_POLICY = """\
# The policy `signoff dev` uses unless SIGNOFF_POLICY names another file. Edit freely.
[default]
expires_after = "7d"

[tools.deploy_service]
quorum = 2
"""

# The events manifest.yml subscribes to (a test holds the two equal), and where requests
# asked in a DM go unless SIGNOFF_APPROVALS_CHANNEL says otherwise: #ops, as in the tour.
DEV_EVENTS = (
    "app_mention",
    "app_home_opened",
    "subteam_members_changed",
    "message.channels",
    "message.groups",
    "message.im",
    "message.mpim",
    "tokens_revoked",
    "app_uninstalled",
)
DEV_APPROVALS_CHANNEL = "C0OPS"

_OFFSET = re.compile(r"([0-9]+)([smhd])")  # not \d: other scripts' digits too
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Years either way are enough to see expiries and reminders; more overflows dates.
_MAX_OFFSET = timedelta(days=3650)
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")


def parse_offset(text: str) -> timedelta:
    """`2d`, `36h`, `1d12h`, `90m`, `0`; a leading `-` goes back in time."""
    raw = text.strip()
    sign = -1 if raw.startswith("-") else 1
    body = raw.lstrip("+-")
    if body == "0":
        return timedelta(0)
    parts = _OFFSET.findall(body)
    if not parts or "".join(n + u for n, u in parts) != body:
        raise ConfigError(f"--clock-offset: not a duration: {text!r} (use e.g. 2d, 36h, 1d12h)")
    seconds = sum(int(n) * _UNIT[u] for n, u in parts)
    if seconds > _MAX_OFFSET.total_seconds():  # checked before timedelta overflows
        raise ConfigError(f"--clock-offset: {text!r} is more than {_MAX_OFFSET.days} days")
    return timedelta(seconds=sign * seconds)


@dataclass(frozen=True)
class OffsetClock:
    """The system clock shifted by a fixed offset (a sessions.Clock, and a float clock for
    LocalSlack through ``timestamp``)."""

    offset: timedelta = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def timestamp(self) -> float:
        return time.time() + self.offset.total_seconds()


def dev_settings(settings: Settings, slack: LocalSlack) -> Settings:
    """The user's settings pointed at LocalSlack, with the demo fleet, and the dev policy
    unless SIGNOFF_POLICY or the config's [policy] gives one."""
    policy = settings.policy_path
    if policy is None and settings.config().policy is None:
        policy = playground_policy_path(settings.home)
        if not policy.exists():
            policy.parent.mkdir(parents=True, exist_ok=True)
            policy.write_text(DEV_POLICY)
    return settings.model_copy(
        update={
            "policy_path": policy,
            "slack_bot_token": SecretStr(slack.bot_token),
            "slack_app_token": SecretStr(slack.app_token),
            "slack_api_url": slack.api_url,
            "demo_tools": True,
            "approvals_channel": settings.approvals_channel or DEV_APPROVALS_CHANNEL,
        }
    )


def dev_workspace() -> WorkspaceConfig:
    """The chat of ``signoff dev``: the app as manifest.yml declares it (Home tab, DMs),
    declared as an agent too (``assistant:write``, the stop button's event), so the whole
    live view shows; docs/slack.md says how to do the same in a workspace. Its tokens are
    its own, made at each start: LocalSlack's defaults are known to every web page, and a
    browser that does not say where a request comes from let one post with them."""
    base = WorkspaceConfig(team_name="signoff dev")
    return WorkspaceConfig(
        team_name="signoff dev",
        bot_token=f"xoxb-local-{secrets.token_hex(16)}",
        app_token=f"xapp-1-{base.bot.app_id}-{secrets.token_hex(16)}",
        home_tab_enabled=True,
        messages_tab="on",
        scopes=(*base.scopes, "mpim:history", "mpim:read", "assistant:write"),
        subscribed_events=(*DEV_EVENTS, "agent_session_stopped"),
    )


def _workspace(
    pages: DevPages, offset: OffsetClock, state: Path, host: str, port: int
) -> LocalSlack:
    ui = UiOptions(
        title="signoff dev",
        links=(("Sessions & approvals", "/signoff/"),),
        message_link=("trace", "/signoff/thread?channel={channel}&thread_ts={thread_ts}&ts={ts}"),
        default_user="U0ALICE",
        default_channel="C0OPS",
    )
    return LocalSlack(
        dev_workspace(),
        host=host,
        port=port,
        clock=offset.timestamp,
        state_file=state,
        ui=ui,
        routes=pages.routes(),
    )


async def run_dev(settings: Settings, *, host: str, port: int, clock_offset: str) -> int:
    offset = OffsetClock(parse_offset(clock_offset))
    home = Home(settings.home)
    home.ensure()
    (home.root / "dev").mkdir(exist_ok=True)
    # One per home: a second kept a chat of its own in the same state file (the last to
    # write it won), and the first one's delivery posted the second's replies to its own
    # chat, where their threads do not exist: given up, lost.
    with one_bot_per_home(home, command="dev"):
        return await _serve(settings, home, offset, host=host, port=port)


async def _serve(
    settings: Settings, home: Home, offset: OffsetClock, *, host: str, port: int
) -> int:
    # slack_sdk ignores NO_PROXY: a proxy would swallow every call to 127.0.0.1.
    for name in _PROXY_VARS:
        os.environ.pop(name, None)
    stop, hurry = stop_signals()  # also during start-up: stop right after it
    state = settings.home / "dev" / "localslack-state.json"
    pages = DevPages(home, team=WorkspaceConfig().team_id, people=_people())
    slack = _workspace(pages, offset, state, host, port)
    try:
        await slack.start()
    except OSError as exc:
        raise ConfigError(
            f"signoff dev cannot listen on {host}:{port}: {exc.strerror or exc} "
            "(try another port with --port)"
        ) from None
    except ValueError as exc:  # an unreadable state file
        raise ConfigError(f"signoff dev: {exc}") from None
    bot: SignoffBot | None = None
    started = False
    try:
        bot = await SignoffBot.build(
            dev_settings(settings, slack), clock=offset, http_required=False
        )
        pages.engine = bot.engine
        await bot.start()
        started = True
        await slack.wait_for_sockets(1, timeout=15)
        ops = bot.ops.url if bot.ops else None
        _announce(settings, state, offset, slack.url, ops, describe_tools(bot.engine.tools))
        await stop.wait()
        announce(
            "signoff dev: stopping (letting running turns finish; Ctrl-C again cuts that short)"
        )
    finally:
        if started and bot is not None:
            await bot.stop(grace=min(settings.drain_s, 10), hurry=hurry)
        elif bot is not None:
            await bot.stop(grace=1)
        await slack.stop()
    announce("signoff dev: stopped; run it again to carry on where you left off")
    signals_spent()
    return 0


def _people() -> dict[str, str]:
    config = WorkspaceConfig()
    names = {u.id: u.name for u in config.users}
    names[config.bot.user_id] = config.bot.name
    return names


def _announce(
    settings: Settings, state: Path, offset: OffsetClock, url: str, ops: str | None, tools: str
) -> None:
    announce(f"signoff dev: data in {settings.home} (the chat itself: {state})")
    announce(f"signoff dev: model {settings.model}, tools: {tools}")
    if offset.offset:
        announce(
            f"signoff dev: clock offset {offset.offset}: it is now {offset.now():%Y-%m-%d %H:%M} UTC"
        )
    if ops is not None:
        announce(f"signoff dev: health and metrics: {ops}/readyz, {ops}/metrics")
    announce(f"signoff dev: open {url}/ (Ctrl-C stops)")
