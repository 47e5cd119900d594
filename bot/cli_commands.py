"""The commands of ``signoff`` (``bot.cli`` is the entry point, and documents them):
each returns its exit status, and every failure a person can cause ends as one line."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import Sequence

from approvals import scan_session_approvals
from sessions import Home, SignoffError, out_of_room, reindex

from .cli_args import COMMANDS, dash_values_joined, not_text, parser
from .cli_engine import UNFINISHED, checked_config, decide, recover, say
from .cli_home import checked_writable, writable_home
from .cli_output import RECORDING, kept_output
from .cli_read import existing_home, list_index, show_quarantine, show_trace
from .cli_verify import verify_sessions
from .config import ConfigError, Settings, refuse_unknown
from .errors import error_line
from .log_filters import quiet_mcp_sdk
from .logs import JsonFormatter, LogFormat, log_event, redact, setup_logging
from .playground_policy import with_playground_policy
from .terminal_text import printable
from .tooling import import_tool_modules

__all__ = ["run"]

_log = logging.getLogger("signoff.cli")

# The commands that judge by a policy, or show what it says: on a home ``signoff dev``
# made, by its policy unless another is named (``playground_policy``).
_JUDGING = frozenset({"pending", "approve", "deny", "say", "recover", "doctor", "dev"})


class _Notes(logging.Handler):
    """What a command that sets up no logging hears from the engine it opened (a record
    it skips, a thread it could not carry on), as Python's last resort would say it, but
    in one line each: a damaged record printed a traceback after "approved by …"."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if record.exc_info and (exc := record.exc_info[1]) is not None:
                text += f": {type(exc).__name__}: {str(exc).partition(chr(10))[0]}"
            sys.stderr.write(f"signoff: {printable(redact(text))}\n")
        except Exception:
            self.handleError(record)


def _run(argv: Sequence[str] | None, logs: list[logging.Handler]) -> int:
    """``logs``: gets the handler ``run`` and ``dev`` log through, once it is set up."""
    grammar = parser()
    argv = sys.argv[1:] if argv is None else argv
    try:
        if (problem := not_text(argv)) is not None:
            grammar.error(problem)
        args = grammar.parse_args(dash_values_joined(argv))
        if args.command is None:
            grammar.error(f"no command given; one of: {', '.join(COMMANDS)}")
    except SystemExit as done:  # --help, --version, or a usage error already printed
        return done.code if isinstance(done.code, int) else 2
    if args.command == "demo":
        from .demo import run_demo

        # The demo reads no setting, but a typo (SIGNOFF_HOMEE) is said as everywhere else.
        refuse_unknown(os.environ)

        return asyncio.run(run_demo(args.home))
    if args.command in ("run", "dev"):
        # First, as the setting asks (its level once the settings are read): an error in
        # them is reported as the logs are, one JSON line for a log collector.
        named = (os.environ.get("SIGNOFF_LOG_FORMAT") or "").strip().lower()
        asked: LogFormat | None = "json" if named == "json" else "text" if named == "text" else None
        logs[:] = [setup_logging(format=asked)]
    if args.command in RECORDING:
        with kept_output() as kept:
            code = _command(args, logs)
        return kept.status(args.command, code, unfinished=UNFINISHED)
    return _command(args, logs)


def _command(args: argparse.Namespace, logs: list[logging.Handler]) -> int:
    settings = Settings.from_env()
    home = Home(settings.home)
    try:
        return _dispatch(args, logs, settings, home)
    except (sqlite3.Error, OSError) as exc:
        # SQLite says a full disk as "disk I/O error" (its -shm file could not be sized):
        # the index is sound, and `signoff reindex` would fail the same way. A write of
        # ours says only "No space left on device", neither where nor what stands. (The
        # home asked, not the errno: stdout on a full disk is ``kept_output``'s to say.)
        full = isinstance(exc, sqlite3.Error) or exc.errno == errno.ENOSPC
        if not full or not out_of_room(home.root):
            raise
        said = (
            f"the index could not be used ({exc})"
            if isinstance(exc, sqlite3.Error)
            else (exc.strerror or str(exc))
        )
        raise ConfigError(
            f"{said}: the file system of SIGNOFF_HOME {home.root} is full; what is "
            "recorded on disk stands: make room, then run this again"
        ) from None


def _dispatch(
    args: argparse.Namespace, logs: list[logging.Handler], settings: Settings, home: Home
) -> int:
    if args.command == "trace":
        return show_trace(home, args.session_id)
    if args.command == "show":
        from .cli_show import show_transcript

        return show_transcript(home, args.session_id)
    if args.command == "sessions":
        return asyncio.run(list_index(home, args))
    if args.command in _JUDGING:
        named = bool(os.environ.get("SIGNOFF_DEMO", "").strip())
        settings = with_playground_policy(settings, demo_named=named)
    if args.command == "pending":  # the rules in force count a quorum's votes
        # No tool is started: the tokens a server's headers name need not be set here.
        policy = settings.policy(settings.config(expand=False))
        return asyncio.run(list_index(home, args, policy=policy))
    if args.command == "quarantine":
        return show_quarantine(home, args)
    if args.command in ("approve", "deny"):
        return asyncio.run(decide(settings, args))
    if args.command == "say":
        return asyncio.run(say(settings, args))
    if args.command == "recover":
        return asyncio.run(recover(settings, apply_policy=args.apply_policy))
    if args.command == "verify":
        return verify_sessions(home, args.session_id)
    if args.command == "audit":
        from .cli_audit import run_audit

        return run_audit(home, args)
    if args.command == "doctor":
        from .doctor import run_doctor

        return asyncio.run(run_doctor(settings))
    if args.command == "run":
        from .one_bot import one_bot_per_home
        from .run import run_bot

        # First: what the tool modules print while they are imported (a warning) is logged.
        logs[:] = [setup_logging(format=settings.log_format, level=settings.log_level or "INFO")]
        settings.slack_tokens()  # before the home is created: a mistyped command leaves none
        checked_config(settings)
        import_tool_modules(settings)
        with one_bot_per_home(writable_home(settings), command="run"):
            return asyncio.run(run_bot(settings))
    if args.command == "dev":
        from .dev import run_dev

        logs[:] = [setup_logging(format=settings.log_format, level=settings.log_level or "WARNING")]
        # The dev policy file, once written, is the user's to edit: checked like any other
        # (``with_playground_policy`` above).
        checked_config(settings)
        import_tool_modules(settings)
        writable_home(settings)
        return asyncio.run(
            run_dev(settings, host=args.host, port=args.port, clock_offset=args.clock_offset)
        )
    if args.command == "reindex":
        # Rebuilt from the directories that are there: never a new home, nor one in $HOME.
        counts = asyncio.run(
            reindex(checked_writable(existing_home(home)), scan_approvals=scan_session_approvals)
        )
        print("rebuilt index: " + " ".join(f"{k}={v}" for k, v in counts.items()))
        return 0
    raise AssertionError(args.command)


def run(argv: Sequence[str] | None = None) -> int:
    """The command's exit status (a Ctrl-C is ``bot.cli.main``'s to answer)."""
    logs: list[logging.Handler] = []
    logging.lastResort = _Notes()  # `run` and `dev` set up handlers of their own
    quiet_mcp_sdk()
    try:
        try:
            code = _run(argv, logs)
        except SystemExit as done:  # argparse after --help, --version or a usage error
            if done.code is not None and not isinstance(done.code, int):
                raise
            code = done.code or 0
        # A closed pipe or a full disk shows here, not in the interpreter's last flush,
        # which would end --help with 0 and nothing written.
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # The reader left (`signoff sessions | head`): stop quietly, like coreutils.
        _drop_stdout()
        return 128 + signal.SIGPIPE
    except SignoffError as exc:
        return _failed(str(exc), logs)
    except OSError as exc:
        try:
            sys.stdout.flush()  # what was printed before the error still goes out
        except OSError:  # it was stdout that failed (a full disk): not tried again at exit
            _drop_stdout()
        where = f": {exc.filename}" if exc.filename else ""
        # A TimeoutError has no text at all: its name is better than nothing.
        return _failed(f"{exc.strerror or exc or type(exc).__name__}{where}", logs)
    except sqlite3.Error as exc:
        # Held past its busy timeout by another writer, or damaged. The index is a cache of
        # the files: what they record stands, and a bot carries on from them.
        return _failed(
            f"the index could not be used: {exc}; what is recorded on disk stands (a running "
            "bot carries on from it; `signoff reindex` rebuilds the index when none runs)",
            logs,
        )


def _drop_stdout() -> None:
    """Point stdout at /dev/null: what it still holds could never be written, and the
    interpreter's last flush would fail again, with a traceback and status 120."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout has no descriptor (captured in tests): nothing left to flush


def _failed(message: str, logs: list[logging.Handler]) -> int:
    if logs and isinstance(logs[0].formatter, JsonFormatter):
        # The line that says why the bot is not running, parsed like every other one.
        log_event(_log, "exit_error", level=logging.ERROR, message=message, exit_code=2)
    else:
        # Scrubbed as that JSON line is: a message may quote what a tool module or a server
        # said, token and all.
        sys.stderr.write(error_line(redact(message)))
    return 2
