"""The commands that open the engine: ``say``, ``approve``, ``deny``, ``recover``.

Configuration is checked before anything is opened (the tools a policy names exist, the
home can be written), so a mistake ends the command with one line and leaves nothing
running behind it. What they print of what they queued for Slack is ``cli_echo``'s.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys

from agent_core.engine import Engine
from agent_core.queued_status import QueuedStatusView
from approvals import (
    AlreadyDecided,
    ApprovalRequest,
    Decided,
    DecisionResult,
    Policy,
    Refused,
    VoteCounted,
)
from approvals.decision_checks import reason_missing
from approvals.policy_applied import differs_from_applied
from sessions import (
    Home,
    InboxMessage,
    SystemClock,
    ThreadKey,
    coordination_for,
    utc_iso,
)

from .cli_deferred import said_deferred
from .cli_echo import QueuedEcho, said_then_delivered
from .cli_home import checked_writable, writable_home
from .cli_read import existing_home
from .cli_tool_check import approved_calls_run_here, call_runs_here
from .cli_waits import terminal_thread_wait
from .config import ConfigError, Settings
from .models import build_cost, build_model
from .one_bot import running_bot
from .terminal_text import printable
from .tooling import build_registry, open_engine

__all__ = ["checked_config", "decide", "recover", "say"]


def checked_config(settings: Settings) -> Policy:
    """The configuration file and the policy, validated before anything is opened.

    Whether the policy names tools that exist is checked when the tools are built
    (``tooling.open_engine``), which closes everything it opened if it does not.
    """
    return settings.policy(settings.config())


async def _checked_settings(settings: Settings) -> None:
    """What opening the engine checks of the configuration (the model, the price table, the
    tools a policy names exist), without opening it: without a home, that would create one."""
    config = settings.config()
    policy = settings.policy(config)
    build_model(settings.model)
    build_cost(settings)
    registry = await build_registry(settings, config)
    try:
        registry.check_policy(policy)
    finally:
        await registry.aclose()


def _policy_in_force(home: Home, policy: Policy) -> None:
    """A ConfigError when ``policy`` is not the one the home's cards were last shown under:
    a shell without the bot's settings would decide by other rules (the built-in default's
    one approval where the bot asks two) and show them on every waiting card."""
    if not differs_from_applied(home, policy):
        return
    raise ConfigError(
        f"the policy here ({policy.source}) is not the one this home's cards show "
        "(policy-applied.json): give this command the bot's SIGNOFF_POLICY or "
        "SIGNOFF_CONFIG; to put this one in force, start the bot with it or run "
        "`signoff recover --apply-policy`"
    )


def _no_bot(home: Home) -> None:
    """A ConfigError while a bot runs on ``home``: it decides by the policy it started
    with, and records that one as in force only at its start, so another put in force
    beside it would be shown on its cards and judged by nobody."""
    if (bot := running_bot(home)) is not None:
        raise ConfigError(
            f"{bot} runs on {home.root}: a policy is put in force by starting the bot "
            "with it; stop the bot first to put this one in force from here"
        )


async def _engine(
    settings: Settings, *, warn_no_tools: bool = True, apply_policy: bool = False
) -> Engine:
    """The engine for one command, with the same tools as ``signoff run``.

    With the bot's Slack tokens it delivers what it queues (cards, replies) itself, unless
    a running bot holds the home's delivery; without them, everything it queues waits in
    the outbox for the bot, and is printed here (``QueuedEcho``). It has no live view:
    what the thread's agent session must show when a turn parks or ends is queued too.
    """
    policy = checked_config(settings)
    home = writable_home(settings)
    if not apply_policy:
        _policy_in_force(home, policy)
    surface = None
    groups = None  # without Slack, who is in an approver group cannot be learned
    if settings.slack_bot_token is not None:
        from .groups import SlackGroups
        from .web_clients import slack_surface, web_client

        surface = slack_surface(settings)
        token = settings.slack_bot_token.get_secret_value()
        groups = SlackGroups(web_client(token, settings.slack_api_url))
    live = QueuedStatusView(coordination_for(home).outbox, clock=SystemClock())
    # Delivery starts once what the command queued is printed (``said_then_delivered``):
    # started with the engine, it could send a reply before the terminal had shown it.
    engine = await open_engine(
        settings,
        surface=surface,
        groups=groups,
        warn_no_tools=warn_no_tools,
        live=live,
        deliver_now=False,
        thread_wait=terminal_thread_wait(),
        tools_elsewhere=True,
    )
    engine.retry_failed = False  # the process ends after this command: ``_unfinished`` says it
    return engine


# Exit status: recorded, but what follows could not be done in this process (README).
UNFINISHED = 3


def _why(exc: BaseException) -> str:
    if isinstance(exc, sqlite3.Error):
        return f"the index could not be used ({exc})"
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc or type(exc).__name__}{where}"
    return f"{type(exc).__name__}: {str(exc).partition(chr(10))[0]}"


def _unfinished(engine: Engine, recorded: str, carried: str) -> bool:
    """Say on stderr, one line per thread, that ``recorded`` stands but its thread could
    not be carried on now, why, and what ``carried`` it on; True when there was one."""
    failed = engine.unfinished()
    for thread, exc in failed.items():
        sys.stderr.write(
            printable(
                f"signoff: {recorded} in thread {thread.label()}, but it could not be "
                f"{carried} now: {_why(exc)}; a running bot, or `signoff recover`, does it"
            )
            + "\n"
        )
    return bool(failed)


async def _existing(settings: Settings) -> Home:
    """The home a command works on but never makes. Configuration errors first, as when it
    exists; then its absence (a mistyped SIGNOFF_HOME), creating none."""
    home = Home(settings.home)
    if not home.root.is_dir():
        await _checked_settings(settings)
    return existing_home(home)


async def decide(settings: Settings, args: argparse.Namespace) -> int:
    # A request that does not exist: said before anything is opened.
    request = ApprovalRequest.open(await _existing(settings), args.approval_id)
    engine = await _engine(settings, warn_no_tools=False)
    try:
        if args.command == "approve" and request.decision() is None:
            call_runs_here(engine, request)  # said before an approval it could not use
        echo = QueuedEcho(settings.home)  # in the try: an outbox it cannot read closes the engine
        result = await engine.decide(
            args.approval_id,
            user=args.user,
            approve=args.command == "approve",
            reason=args.reason,
            seen_sha256=getattr(args, "hash", None) or None,
        )
        # Said at once: what follows may wait for a turn a running bot has in the thread.
        said, code = _decision_line(result, user=args.user)
        if isinstance(result, Refused) and result.reason == reason_missing(
            request, engine.rt.policy, ""
        ):  # the card's modal asks for it; here it is an option
            said += ' (--reason "…")'

        print(printable(said), flush=True)  # a tampered record's escapes shown, not acted on
        await said_then_delivered(engine, echo)
        # An approval's turn says it waits (its reply); a denial's has nobody to say it.
        denied = isinstance(result, Decided) and result.decision.verdict == "denied"
        held = denied and engine.rt.killed()
        deferred = await said_deferred(engine)
    finally:
        await engine.close()
    if held:
        print(
            f"the kill switch is on ({engine.home.kill_switch}): the thread is told once it is off"
        )
    if _unfinished(engine, "the decision is recorded", "carried on") or deferred:
        return code or UNFINISHED
    return code


def _decision_line(result: DecisionResult, *, user: str) -> tuple[str, int]:
    """What the terminal says of a decision, and the exit status."""
    if isinstance(result, Decided):
        return f"{result.decision.verdict} by {user}", 0
    if isinstance(result, AlreadyDecided):
        d = result.decision
        return f"already decided: {d.verdict} by {', '.join(d.deciders)} at {d.at}", 1
    if isinstance(result, VoteCounted):
        said = f"vote counted: {result.approvals} of {result.quorum} approvals"
        if (alone := result.out_of_reach) is not None:
            only = ", ".join(alone) or "nobody"
            said += f", but it cannot be approved under the policy in force: only {only} may"
        return said, 0
    if isinstance(result, Refused):
        return f"refused: {result.reason}", 1
    return "you already voted on this request", 1


async def say(settings: Settings, args: argparse.Namespace) -> int:
    # Chat from a terminal: whatever it queues waits for a bot, never goes out from here.
    engine = await _engine(settings.model_copy(update={"slack_bot_token": None}))
    try:
        echo = QueuedEcho(settings.home)  # in the try: an outbox it cannot read closes the engine
        now = engine.clock.now()
        ts = args.ts or f"{int(now.timestamp()):010d}.{now.microsecond:06d}"
        thread = ThreadKey(team=args.team, channel=args.channel, thread_ts=args.thread or ts)
        message = InboxMessage(
            thread=thread, ts=ts, user=args.user, text=args.text, received_at=utc_iso(now)
        )
        fresh = await engine.ingest(message)
        await engine.idle()
        echo.print_new(engine)
        held = engine.rt.killed()
        await said_deferred(engine)
    finally:
        await engine.close()
    print(f"thread {thread.label()}" + ("" if fresh else " (duplicate message ignored)"))
    if held:  # stored, and nothing said: not an answer the turn left out
        print(f"the kill switch is on ({engine.home.kill_switch}): it is answered once it is off")
    # A call of the thread left to the bot is said (``said_deferred``), but it is not what
    # was asked here: the message is stored and answered.
    return UNFINISHED if _unfinished(engine, "the message is stored", "answered") else 0


async def recover(settings: Settings, *, apply_policy: bool = False) -> int:
    home = await _existing(settings)  # nothing to recover in a home that is not there
    if apply_policy:
        _no_bot(checked_writable(home))  # asking for the bot's lock opens it for writing
    engine = await _engine(settings, apply_policy=apply_policy)
    try:
        await approved_calls_run_here(engine)
        echo = QueuedEcho(settings.home)  # in the try: an outbox it cannot read closes the engine
        counts = await engine.recover()
        await said_then_delivered(engine, echo)
        deferred = await said_deferred(engine)
    finally:
        await engine.close()
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    unfinished = _unfinished(engine, "its work is on disk", "carried on")
    return UNFINISHED if unfinished or deferred else 0
