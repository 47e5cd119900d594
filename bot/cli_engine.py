"""The commands that open the engine: ``say``, ``approve``, ``deny``, ``recover``.

Configuration is checked before anything is opened (the tools a policy names exist, the
home can be written), so a mistake ends the command with one line and leaves nothing
running behind it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from agent_core.engine import Engine
from agent_core.surface import Surface, TerminalSurface
from agent_core.tools import ToolRegistry
from approvals import AlreadyDecided, Decided, Policy, Refused, VoteCounted, load_policy
from sessions import Home, InboxMessage, ThreadKey, utc_iso

from .config import ConfigError, Settings, load_registry
from .models import build_budgets, build_cost, build_model

__all__ = ["checked_config", "decide", "recover", "say", "writable_home"]


def writable_home(settings: Settings) -> Home:
    """The home, created if missing; a ConfigError naming it when that is impossible."""
    home = Home(settings.home)
    try:
        home.ensure()
    except OSError as exc:
        raise ConfigError(f"cannot use SIGNOFF_HOME {home.root}: {exc.strerror or exc}") from None
    return home


def checked_config(
    settings: Settings, *, policy_path: Path | None = None
) -> tuple[ToolRegistry, Policy]:
    """The registry and the policy, checked against each other before anything is opened."""
    registry = load_registry(settings.tool_modules)
    policy = load_policy(policy_path) if policy_path is not None else settings.policy()
    policy.check_tools(set(registry.names()))
    return registry, policy


async def _engine(settings: Settings, surface: Surface) -> Engine:
    registry, policy = checked_config(settings)
    return await Engine.open(
        home=writable_home(settings),
        model=build_model(settings.model),
        registry=registry,
        surface=surface,
        policy=policy,
        budgets=build_budgets(settings),
        cost=build_cost(settings),
    )


def _surface(settings: Settings) -> Surface:
    """Slack when the bot's tokens are set (cards update, replies reach the thread)."""
    if settings.slack_bot_token is None:
        return TerminalSurface()
    from .app import web_client
    from .slack_surface import SlackSurface

    return SlackSurface(
        web_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
    )


async def decide(settings: Settings, args: argparse.Namespace) -> int:
    engine = await _engine(settings, _surface(settings))
    try:
        result = await engine.decide(
            args.approval_id, user=args.user, approve=args.command == "approve", reason=args.reason
        )
        await engine.idle()
    finally:
        await engine.close()
    if isinstance(result, Decided):
        print(f"{result.decision.verdict} by {args.user}")
        return 0
    if isinstance(result, AlreadyDecided):
        d = result.decision
        print(f"already decided: {d.verdict} by {', '.join(d.deciders)} at {d.at}")
        return 1
    if isinstance(result, VoteCounted):
        print(f"vote counted: {result.approvals} of {result.quorum} approvals")
        return 0
    if isinstance(result, Refused):
        print(f"refused: {result.reason}")
        return 1
    print("you already voted on this request")
    return 1


async def say(settings: Settings, args: argparse.Namespace) -> int:
    engine = await _engine(settings, TerminalSurface())
    try:
        now = engine.rt.clock.now()
        ts = args.ts or f"{int(now.timestamp()):010d}.{now.microsecond:06d}"
        thread = ThreadKey(team=args.team, channel=args.channel, thread_ts=args.thread or ts)
        message = InboxMessage(
            thread=thread, ts=ts, user=args.user, text=args.text, received_at=utc_iso(now)
        )
        fresh = await engine.ingest(message)
        await engine.idle()
        print(f"thread {thread.label()}" + ("" if fresh else " (duplicate message ignored)"))
    finally:
        await engine.close()
    return 0


async def recover(settings: Settings) -> int:
    engine = await _engine(settings, _surface(settings))
    try:
        counts = await engine.recover()
        await engine.idle()
    finally:
        await engine.close()
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    return 0
