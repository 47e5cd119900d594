"""The ``signoff`` command line.

signoff demo                     the embedded default: a scripted end-to-end run
signoff sessions [--state S]     recent sessions
signoff trace <session-id>       the thread's lineage, readable in a terminal
signoff pending                  approvals waiting for a decision
signoff approve|deny <appr-id> --as <user-id> [--reason TEXT]
signoff say --as U --channel C [--thread TS] TEXT    chat from the terminal
signoff recover                  start-up recovery once, then drain
signoff verify [session-id]      check sealed sessions against their manifests
signoff reindex                  rebuild index.sqlite3 from the directories
    signoff run                      the Slack bot on Socket Mode
    signoff doctor                   check SIGNOFF_MODEL with one cheap call
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from agent_core.engine import Engine
from agent_core.surface import Surface, TerminalSurface
from approvals import (
    AlreadyDecided,
    ApprovalsError,
    Decided,
    Refused,
    VoteCounted,
    scan_session_approvals,
)
from sessions import (
    Home,
    InboxMessage,
    SessionsError,
    SessionStore,
    ThreadKey,
    check_session_id,
    reindex,
    utc_iso,
    verify,
)

from .config import ConfigError, Settings
from .tooling import open_engine
from .trace_view import render_lineage, render_session_list

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="signoff", description="Slack chat-ops with human sign-off"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the scripted end-to-end demo (no Slack, no API key)")
    demo.add_argument("--home", help="keep the demo's data here instead of a temporary directory")
    sessions = sub.add_parser("sessions", help="list recent sessions")
    sessions.add_argument("--state", action="append", default=[])
    sessions.add_argument("--limit", type=int, default=30)
    trace = sub.add_parser("trace", help="show the lineage of a session's thread")
    trace.add_argument("session_id")
    sub.add_parser("pending", help="list approvals waiting for a decision")
    for verb in ("approve", "deny"):
        cmd = sub.add_parser(verb, help=f"{verb} a pending request as a Slack user")
        cmd.add_argument("approval_id")
        cmd.add_argument("--as", dest="user", required=True, help="the deciding Slack user id")
        cmd.add_argument("--reason", default="")
    say = sub.add_parser("say", help="post a message into a thread from the terminal")
    say.add_argument("--as", dest="user", required=True)
    say.add_argument("--team", default="T0LOCAL")
    say.add_argument("--channel", required=True)
    say.add_argument("--thread", help="thread ts; default: a new thread")
    say.add_argument("--ts", help="message ts; default: derived from the clock")
    say.add_argument("text")
    sub.add_parser("recover", help="run start-up recovery once and drain pending work")
    check = sub.add_parser("verify", help="verify sealed sessions against their manifests")
    check.add_argument("session_id", nargs="?")
    sub.add_parser("reindex", help="rebuild index.sqlite3 from the directories")
    sub.add_parser("doctor", help="check the configured model with one cheap call")
    sub.add_parser(
        "run", help="run the Slack bot (Socket Mode; needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN)"
    )
    dev = sub.add_parser("dev", help="the bot and a local Slack in your browser (no workspace)")
    dev.add_argument("--port", type=int, default=3000, help="0 picks a free port")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--clock-offset", default="0", help="shift the clock, e.g. 2d or 36h")
    return parser


async def _engine(settings: Settings, surface: Surface) -> Engine:
    """The same tools as ``signoff run``: an approval decided here may run its call."""
    return await open_engine(settings, surface=surface)


def _surface(settings: Settings) -> Surface:
    """Slack when the bot's tokens are set (cards update, replies reach the thread)."""
    if settings.slack_bot_token is None:
        return TerminalSurface()
    from .app import web_client
    from .slack_surface import SlackSurface

    return SlackSurface(
        web_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
    )


async def _decide(settings: Settings, args: argparse.Namespace) -> int:
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


async def _say(settings: Settings, args: argparse.Namespace) -> int:
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


async def _recover(settings: Settings) -> int:
    engine = await _engine(settings, _surface(settings))
    try:
        counts = await engine.recover()
        await engine.idle()
    finally:
        await engine.close()
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


async def _list(settings: Settings, args: argparse.Namespace) -> int:
    index = await Engine.open_index(Home(settings.home))
    try:
        if args.command == "sessions":
            rows = await index.sessions(states=args.state, limit=args.limit)
            print(
                render_session_list(
                    [(r.id, r.state, r.thread.label(), r.updated_at, r.reason) for r in rows]
                )
            )
        else:
            pending = await index.approvals(status="pending", limit=500)
            if not pending:
                print("nothing is waiting for a decision")
            for a in pending:
                who = a.approvers or "anyone but the requester"
                print(
                    f"{a.id}  {a.tool:<16} requested by {a.requester}  approvers: {who}  "
                    f"expires {a.expires_at}  session {a.session_id}"
                )
    finally:
        await index.close()
    return 0


async def _doctor(settings: Settings) -> int:
    import os

    from agent_core.providers import doctor

    report = await doctor(settings.model, env=os.environ)
    latency = f" ({report.latency_ms:.0f} ms)" if report.latency_ms is not None else ""
    print(f"{'ok' if report.ok else 'problem'}: {report.message}{latency}")
    return 0 if report.ok else 1


def _verify(settings: Settings, session_id: str | None) -> int:
    home = Home(settings.home)
    ids = [check_session_id(session_id)] if session_id else SessionStore(home).all_ids()
    bad = 0
    for sid in ids:
        report = verify(home.session_dir(sid))
        if not report.ok:
            bad += 1
            print(f"{sid}: TAMPERED: " + "; ".join(report.problems))
        elif session_id:
            print(f"{sid}: {'ok (sealed)' if report.sealed else 'not sealed yet (still open)'}")
    print(f"verified {len(ids)} session(s), {bad} with problems")
    return 1 if bad else 0


def _run(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "demo":
        from .demo import run_demo

        return asyncio.run(run_demo(args.home))
    settings = Settings.from_env()
    if args.command == "trace":
        print(render_lineage(Home(settings.home), check_session_id(args.session_id)))
        return 0
    if args.command in ("sessions", "pending"):
        return asyncio.run(_list(settings, args))
    if args.command in ("approve", "deny"):
        return asyncio.run(_decide(settings, args))
    if args.command == "say":
        return asyncio.run(_say(settings, args))
    if args.command == "recover":
        return asyncio.run(_recover(settings))
    if args.command == "verify":
        return _verify(settings, args.session_id)
    if args.command == "doctor":
        return asyncio.run(_doctor(settings))
    if args.command == "run":
        import logging

        from .app import run_bot

        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s"
        )
        return asyncio.run(run_bot(settings))
    if args.command == "dev":
        import logging

        from .dev import run_dev

        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
        return asyncio.run(
            run_dev(settings, host=args.host, port=args.port, clock_offset=args.clock_offset)
        )
    if args.command == "reindex":
        counts = asyncio.run(reindex(Home(settings.home), scan_approvals=scan_session_approvals))
        print("rebuilt index: " + " ".join(f"{k}={v}" for k, v in counts.items()))
        return 0
    raise AssertionError(args.command)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _run(argv)
    except (SessionsError, ApprovalsError, ConfigError) as exc:
        print(f"signoff: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
