"""The ``signoff`` command line.

signoff demo [--home DIR]        the embedded default: a scripted end-to-end run
signoff dev                      the bot and a local Slack in the browser
signoff run                      the Slack bot on Socket Mode
signoff sessions [--state S]     recent sessions
signoff trace <session-id>       the thread's lineage, readable in a terminal
signoff show <session-id>        the session's whole transcript (its parents' too)
signoff pending                  approvals waiting for a decision
signoff approve|deny <appr-id> --as <user-id> [--reason TEXT] [--hash H (approve)]
signoff say --as U --channel C [--thread TS] TEXT    chat from the terminal
signoff recover                  start-up recovery once, then drain
signoff verify [session-id]      check sealed sessions against their manifests
signoff audit [--since 7d] [--format jsonl|csv]   every approval, for an audit
signoff quarantine [quar-id]     what arrived from Slack but could never be processed
signoff reindex                  rebuild index.sqlite3 from the directories
signoff doctor                   check SIGNOFF_MODEL with one cheap call

Exit status: 0 done; 1 a check found a problem or a decision was refused; 2 a usage or
configuration error, or an id that names nothing (one line on stderr, never a
traceback); 141 when the reader of the output went away (``signoff sessions | head``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import sqlite3
import sys
from collections.abc import Callable, Sequence
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from typing import NoReturn

from approvals import scan_session_approvals
from sessions import (
    Home,
    SessionState,
    SignoffError,
    check_approval_id,
    check_slack_id,
    check_slack_ts,
    reindex,
)

from .cli_engine import checked_config, decide, recover, say, writable_home
from .cli_read import list_index, show_quarantine, show_trace, verify_sessions
from .config import Settings

__all__ = ["main"]


# One line each, shown in `signoff --help` and as the description of `signoff CMD --help`.
COMMANDS = {
    "demo": "run the scripted end-to-end demo (no Slack, no API key)",
    "dev": "run the bot and a local Slack in your browser (no workspace needed)",
    "run": "run the Slack bot on Socket Mode (needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN)",
    "sessions": "list recent sessions",
    "trace": "show the lineage of a session's thread",
    "show": "print a session's whole transcript (following its parents')",
    "pending": "list approvals waiting for a decision",
    "approve": "approve a pending request as a Slack user",
    "deny": "deny a pending request as a Slack user",
    "say": "post a message into a thread from the terminal",
    "recover": "run start-up recovery once and drain pending work",
    "verify": "check sealed sessions against their manifests",
    "audit": "export every approval (who, what, when, outcome, seal) as JSON lines or CSV",
    "quarantine": "list what arrived from Slack but could never be processed, or show one",
    "reindex": "rebuild index.sqlite3 from the directories",
    "doctor": "check the configured model with one cheap call",
}


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line on stderr, like every other error of ``signoff``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"signoff: error: {message} (see {self.prog} --help)\n")


def _day(value: str) -> str:
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"expected a day as YYYY-MM-DD, not {value!r}")


def _count(value: str) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", value) or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number above 0, not {value!r}")
    return int(value)


def _hash(value: str) -> str:
    # 12 or more: what approvals.seen_refusal compares (in lower case), the card's short hash.
    if not re.fullmatch(r"[0-9a-fA-F]{12,64}", value):
        raise argparse.ArgumentTypeError(
            f"expected the hex hash the card shows (12 to 64 of 0-9a-f), not {value!r}"
        )
    return value.lower()


def _port(value: str) -> int:
    if not re.fullmatch(r"[0-9]{1,5}", value) or int(value) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, not {value!r}")
    return int(value)


def _checked(check: Callable[[object], str]) -> Callable[[str], str]:
    """An id check as an argparse type: a malformed id is a usage error, caught before
    anything is opened or created."""

    def typed(value: str) -> str:
        try:
            return check(value)
        except SignoffError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return typed


def _version() -> str:
    try:
        return version("signoff")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="signoff", description="Slack chat-ops with human sign-off")
    parser.add_argument("--version", action="version", version=f"signoff {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    slack_id, slack_ts = _checked(check_slack_id), _checked(check_slack_ts)
    cmd = {
        name: sub.add_parser(name, help=text, description=text) for name, text in COMMANDS.items()
    }
    cmd["demo"].add_argument(
        "--home", help="keep the demo's data here, not in a temporary directory"
    )
    cmd["sessions"].add_argument(
        "--state", action="append", default=[], choices=[s.value for s in SessionState]
    )
    cmd["sessions"].add_argument("--limit", type=_count, default=30)
    cmd["trace"].add_argument("session_id")
    cmd["show"].add_argument("session_id")
    for verb in ("approve", "deny"):
        cmd[verb].add_argument("approval_id", type=_checked(check_approval_id))
        cmd[verb].add_argument(
            "--as", dest="user", required=True, type=slack_id, help="the deciding Slack user id"
        )
        cmd[verb].add_argument("--reason", default="")
    cmd["approve"].add_argument(
        "--hash",
        type=_hash,
        help="the hash of the arguments you approve (needed after an edit)",
    )
    say = cmd["say"]
    say.add_argument("--as", dest="user", required=True, type=slack_id)
    say.add_argument("--team", default="T0LOCAL", type=slack_id)
    say.add_argument("--channel", required=True, type=slack_id)
    say.add_argument("--thread", type=slack_ts, help="thread ts; default: a new thread")
    say.add_argument("--ts", type=slack_ts, help="message ts; default: derived from the clock")
    say.add_argument("text")
    cmd["verify"].add_argument("session_id", nargs="?")
    audit = cmd["audit"]
    audit.add_argument("--since", help="only approvals requested since: 7d, 36h or YYYY-MM-DD")
    audit.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    quarantine = cmd["quarantine"]
    quarantine.add_argument("item", nargs="?", help="a quar_… id: show that item's payload")
    quarantine.add_argument("--day", type=_day, help="only that UTC day (YYYY-MM-DD)")
    quarantine.add_argument("--limit", type=_count, default=30)
    dev = cmd["dev"]
    dev.add_argument("--port", type=_port, default=3000, help="0 picks a free port")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--clock-offset", default="0", help="shift the clock, e.g. 2d or 36h")
    return parser


async def _doctor(settings: Settings) -> int:
    import os

    from agent_core.providers import doctor

    report = await doctor(settings.model, env=os.environ)
    latency = f" ({report.latency_ms:.0f} ms)" if report.latency_ms is not None else ""
    print(f"{'ok' if report.ok else 'problem'}: {report.message}{latency}")
    return 0 if report.ok else 1


def _not_text(argv: Sequence[str]) -> str | None:
    """The first argument that is not UTF-8 (Python holds its bytes as lone surrogates,
    which fail only when the text is written down, a traceback deep in a command)."""
    for arg in argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            try:
                shown = repr(os.fsencode(arg))  # the bytes as typed
            except UnicodeEncodeError:  # a surrogate no byte stands for (main() called)
                shown = ascii(arg)
            return f"an argument is not UTF-8 text: {shown}"
    return None


def _run(argv: Sequence[str] | None) -> int:
    parser = _parser()
    try:
        if (problem := _not_text(sys.argv[1:] if argv is None else argv)) is not None:
            parser.error(problem)
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, --version, or a usage error already printed
        return done.code if isinstance(done.code, int) else 2
    if args.command == "demo":
        from .demo import run_demo

        return asyncio.run(run_demo(args.home))
    settings = Settings.from_env()
    home = Home(settings.home)
    if args.command == "trace":
        return show_trace(home, args.session_id)
    if args.command == "show":
        from .cli_show import show_transcript

        return show_transcript(home, args.session_id)
    if args.command in ("sessions", "pending"):
        return asyncio.run(list_index(home, args))
    if args.command == "quarantine":
        return show_quarantine(home, args)
    if args.command in ("approve", "deny"):
        return asyncio.run(decide(settings, args))
    if args.command == "say":
        return asyncio.run(say(settings, args))
    if args.command == "recover":
        return asyncio.run(recover(settings))
    if args.command == "verify":
        return verify_sessions(home, args.session_id)
    if args.command == "audit":
        from .cli_audit import run_audit

        return run_audit(home, args)
    if args.command == "doctor":
        return asyncio.run(_doctor(settings))
    if args.command == "run":
        from .logs import setup_logging
        from .run import run_bot

        checked_config(settings)
        writable_home(settings)
        setup_logging(format=settings.log_format, level=settings.log_level or "INFO")
        return asyncio.run(run_bot(settings))
    if args.command == "dev":
        from .dev import run_dev
        from .logs import setup_logging

        # The dev policy file, once written, is the user's to edit: check it like any other.
        dev_policy = settings.home / "dev" / "policy.toml"
        checked_config(
            settings,
            policy_path=settings.policy_path or (dev_policy if dev_policy.is_file() else None),
        )
        writable_home(settings)
        setup_logging(format=settings.log_format, level=settings.log_level or "WARNING")
        return asyncio.run(
            run_dev(settings, host=args.host, port=args.port, clock_offset=args.clock_offset)
        )
    if args.command == "reindex":
        counts = asyncio.run(
            reindex(writable_home(settings), scan_approvals=scan_session_approvals)
        )
        print("rebuilt index: " + " ".join(f"{k}={v}" for k, v in counts.items()))
        return 0
    raise AssertionError(args.command)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _run(argv)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        return code
    except BrokenPipeError:
        # The reader left (`signoff sessions | head`): stop quietly, like coreutils.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass  # stdout has no descriptor (captured in tests): nothing left to flush
        return 128 + signal.SIGPIPE
    except SignoffError as exc:
        print(f"signoff: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        # A TimeoutError has no text at all: its name is better than nothing.
        print(
            f"signoff: error: {exc.strerror or exc or type(exc).__name__}{where}",
            file=sys.stderr,
        )
        return 2
    except sqlite3.Error as exc:
        # Held past its busy timeout by another writer, or damaged. The index is a cache of
        # the files: what they record stands, and a bot carries on from them.
        print(
            f"signoff: error: the index could not be used: {exc}; what is recorded on disk "
            "stands (a running bot carries on from it; `signoff reindex` rebuilds the index "
            "when none runs)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
