"""The command line's grammar: its commands, options and the types that check them.

A malformed value is a usage error (one line, exit 2) caught here, before anything is
opened or created.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, NoReturn

from sessions import (
    SessionState,
    SignoffError,
    check_approval_id,
    check_slack_id,
    check_slack_ts,
)

from .errors import error_line

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

__all__ = ["COMMANDS", "dash_values_joined", "not_text", "parser"]


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
    "doctor": "check the model (one cheap call), the Slack tokens, the MCP servers and the policy",
}


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line on stderr, like every other error of ``signoff``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, error_line(f"{message} (see {self.prog} --help)"))

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        # argparse drops a failed write (a full disk, a reader gone): --help would end
        # with 0 and nothing written. Raised, it ends as every command's output does.
        if message:
            (file or sys.stderr).write(message)


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


def _message(value: str) -> str:
    if not value.strip():  # Slack never delivers one: the model would answer nothing said
        raise argparse.ArgumentTypeError("the message is empty")
    return value


def _hash(value: str) -> str:
    # 12 or more: what approvals.seen_refusal compares (in lower case), the card's short hash.
    if not re.fullmatch(r"[0-9a-fA-F]{12,64}", value):
        raise argparse.ArgumentTypeError(
            f"expected the hex hash the card shows (12 to 64 of 0-9a-f), not {value!r}"
        )
    return value.lower()


def _reason(value: str) -> str:
    # As long as a card's modal takes: a pasted log would go onto the card, into the trace
    # and into every later prompt of the thread. (Imported here: every command parses.)
    from .slack_text import MAX_REASON

    if len(value) > MAX_REASON:
        raise argparse.ArgumentTypeError(
            f"at most {MAX_REASON:,} characters (as in Slack's reason modal), not {len(value):,}"
        )
    return value


def _port(value: str) -> int:
    if not re.fullmatch(r"[0-9]{1,5}", value) or int(value) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, not {value!r}")
    return int(value)


def _directory(value: str) -> str:
    # "" (an unset shell variable) would be no --home: the data asked for, kept nowhere.
    if not value.strip():
        raise argparse.ArgumentTypeError("expected a directory, not an empty name")
    return value


def _host(value: str) -> str:
    # "" would bind every interface, each on a port of its own with --port 0.
    if not value or any(c.isspace() for c in value):
        raise argparse.ArgumentTypeError(
            f"expected a host name or address (0.0.0.0 for every interface), not {value!r}"
        )
    return value


def _checked(check: Callable[[object], str]) -> Callable[[str], str]:
    """An id check as an argparse type: a malformed id is a usage error, caught before
    anything is opened or created."""

    def typed(value: str) -> str:
        try:
            return check(value)
        except SignoffError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return typed


def _slack(kind: str, first: str) -> Callable[[str], str]:
    """A Slack id of one kind, by its first letter: ``approve --as C0OPS`` decided as a
    channel, an approver no policy file may name."""
    checked = _checked(check_slack_id)

    def typed(value: str) -> str:
        if not checked(value).startswith(tuple(first)):
            starts = "/".join(f"{c}…" for c in first)
            raise argparse.ArgumentTypeError(f"not a Slack {kind} id ({starts}): {value!r}")
        return value

    return typed


def _version() -> str:
    try:
        return version("signoff")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="signoff", description="Slack chat-ops with human sign-off")
    top.add_argument("--version", action="version", version=f"signoff {_version()}")
    # Not required here: argparse checks that before options it does not know, and answers
    # `signoff --bogus` with "arguments are required: command"; cli_commands says it after.
    sub = top.add_subparsers(dest="command")
    # What Slack gives: users U…/W…, channels C…/G…/D…, teams T…/E… (Enterprise Grid).
    user, slack_ts = _slack("user", "UW"), _checked(check_slack_ts)
    cmd = {
        name: sub.add_parser(name, help=text, description=text) for name, text in COMMANDS.items()
    }
    cmd["demo"].add_argument(
        "--home", type=_directory, help="keep the demo's data here, not in a temporary directory"
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
            "--as", dest="user", required=True, type=user, help="the deciding Slack user id"
        )
        cmd[verb].add_argument("--reason", default="", type=_reason)
    cmd["approve"].add_argument(
        "--hash",
        type=_hash,
        help="the hash of the arguments you approve (needed after an edit)",
    )
    say = cmd["say"]
    say.add_argument("--as", dest="user", required=True, type=user)
    say.add_argument("--team", default="T0LOCAL", type=_slack("team", "TE"))
    say.add_argument("--channel", required=True, type=_slack("channel", "CGD"))
    say.add_argument("--thread", type=slack_ts, help="thread ts; default: a new thread")
    say.add_argument("--ts", type=slack_ts, help="message ts; default: derived from the clock")
    say.add_argument("text", type=_message)
    cmd["recover"].add_argument(
        "--apply-policy",
        action="store_true",
        help="take this policy as the one in force when it is not the one the waiting cards show",
    )
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
    dev.add_argument("--host", type=_host, default="127.0.0.1")
    dev.add_argument("--clock-offset", default="0", help="shift the clock, e.g. 2d or 36h")
    return top


def not_text(argv: Sequence[str]) -> str | None:
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


# Options whose value may start with "-": an offset back in time, a reason such as "-1",
# a lookback typed as "-5d". argparse takes such a value for an option of its own and
# says "expected one argument"; joined as --option=value, it is the value.
_DASH_VALUES = frozenset({"--reason", "--since", "--clock-offset"})


def dash_values_joined(argv: Sequence[str]) -> list[str]:
    joined: list[str] = []
    rest = iter(argv)
    for arg in rest:
        if arg == "--":  # the rest is positional as it stands
            return [*joined, arg, *rest]
        if arg in _DASH_VALUES:
            value = next(rest, None)
            if value is not None and value.startswith("-") and not value.startswith("--"):
                joined.append(f"{arg}={value}")
                continue
            joined.extend([arg] if value is None else [arg, value])
            continue
        joined.append(arg)
    return joined
