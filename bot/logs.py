"""Logs for operators: JSON lines (or text on a terminal) with the ids of what happened.

    log_event(log, "decision", approval_id=..., session_id=..., verdict="approved")

writes one record whose JSON line is
``{"ts": "…Z", "level": "info", "logger": "signoff.events", "event": "decision",
"approval_id": "appr_…", "session_id": "sess_…", "verdict": "approved"}``. Plain
``log.info("…")`` calls still work: their text becomes ``event``, as in structlog.

What people and models wrote is data, not telemetry: ``text=`` is kept only when the
logger is at DEBUG. Tokens and keys are never passed to a log call; ``RedactSecrets``
scrubs anything shaped like one anyway (a library's exception message, a URL), as defence
in depth.
"""

from __future__ import annotations

import codecs
import json
import logging
import math
import re
import sys
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import IO, Any, Literal, TypeAlias

from sessions import ThreadKey

from .log_filters import ClientMistakes, quiet_mcp_sdk
from .terminal_text import printable, printable_json

__all__ = [
    "JsonFormatter",
    "LogFormat",
    "RedactSecrets",
    "lean_records",
    "log_event",
    "redact",
    "setup_logging",
]

LogFormat: TypeAlias = Literal["json", "text"]
Field: TypeAlias = str | int | float | bool | None

# Slack bot/user/app tokens, OpenAI and Anthropic keys (sk-…, sk-ant-…), Bearer headers,
# and the value of a Socket Mode URL's ticket (``wss://…/link/?ticket=…``, in the answer
# to apps.connections.open slack_sdk logs at DEBUG): it opens a connection as the bot
# until used. Up to the URL's next part (&, or %26 quoted), a quote or a JSON escape;
# only as a URL's parameter (after ?, & or their quoted forms): not support_ticket=.
_SECRET = re.compile(
    r"\b(?:xox[abposr]|xapp)-[A-Za-z0-9-]{6,}"
    r"|\bsk-[A-Za-z0-9_-]{8,}"
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/=-]{8,}"
    r"|(?:(?<=[?&;]ticket=)|(?<=%3[Ff]ticket%3[Dd])|(?<=%26ticket%3[Dd]))[^&%\s'\"\\]+"
)
_IDS = ("team", "channel", "thread_ts", "session_id", "approval_id", "tool")
_STRUCTURED = "signoff_fields"
_RESERVED = {"ts", "level", "logger", "event", "exc", "exc_type", "exc_message"}


def redact(text: str) -> str:
    return _SECRET.sub("[redacted]", text)


def log_event(
    logger: logging.Logger,
    event: str,
    *,
    level: int = logging.INFO,
    thread: ThreadKey | None = None,
    team: str | None = None,
    channel: str | None = None,
    thread_ts: str | None = None,
    session_id: str | None = None,
    approval_id: str | None = None,
    tool: str | None = None,
    text: str | None = None,
    data: Mapping[str, Field] | None = None,
    **fields: Field,
) -> None:
    """One structured record: ``event`` names what happened, the ids say to what, and
    ``fields`` (or a ready-made ``data`` mapping) what else is worth knowing.

    ``text`` (what a person or the model wrote) is kept only when ``logger`` is at DEBUG."""
    if not logger.isEnabledFor(level):
        return
    if thread is not None:
        team, channel, thread_ts = thread.team, thread.channel, thread.thread_ts
    ids = {
        "team": team,
        "channel": channel,
        "thread_ts": thread_ts,
        "session_id": session_id,
        "approval_id": approval_id,
        "tool": tool,
    }
    out: dict[str, Field] = {k: v for k, v in ids.items() if v is not None}
    for key, value in {**(data or {}), **fields}.items():
        if value is not None:
            out[f"{key}_" if key in _RESERVED else key] = value
    if text is not None and logger.isEnabledFor(logging.DEBUG):
        out["text"] = text
    # As Logger.log would, but without its walk up the stack for the caller's file and
    # line, which no formatter of ours shows: a third of what a log line cost.
    record = logger.makeRecord(logger.name, level, "", 0, event, (), None, extra={_STRUCTURED: out})
    logger.handle(record)


class RedactSecrets(logging.Filter):
    """Scrubs token- and key-shaped strings from the message, fields and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, ()
        fields = getattr(record, _STRUCTURED, None)
        # One search over all the texts, and a rewrite only if it found something (rarely).
        if fields and _SECRET.search("\n".join(v for v in fields.values() if isinstance(v, str))):
            setattr(
                record,
                _STRUCTURED,
                {k: redact(v) if isinstance(v, str) else v for k, v in fields.items()},
            )
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_second: tuple[int, str] = (-1, "")  # the last second formatted, and its text


def _timestamp(record: logging.LogRecord) -> str:
    """UTC to the millisecond (cut, not rounded, from the microsecond as datetime has it)."""
    global _second
    fraction, seconds = math.modf(record.created)  # as datetime.fromtimestamp splits it
    whole, micro = int(seconds), round(fraction * 1_000_000)
    if micro >= 1_000_000:
        whole, micro = whole + 1, micro - 1_000_000
    if _second[0] != whole:  # the lines of a turn share their second: formatted once
        _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(whole)))
    return f"{_second[1]}{micro // 1000:03d}Z"


class JsonFormatter(logging.Formatter):
    def __init__(self, *, ascii_only: bool = False) -> None:
        super().__init__()
        # For a stream that cannot encode every character (an ASCII or Latin-1 stderr):
        # JSON's own escapes, where the stream's would be Python's (\U0001f6d1), not JSON.
        self.ascii_only = ascii_only

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        line.update(getattr(record, _STRUCTURED, None) or {})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        if isinstance(record.exc_info, tuple) and record.exc_info[0] is not None:
            # What went wrong at a glance; the traceback (``exc``) says where.
            line["exc_type"] = record.exc_info[0].__name__
            first = str(record.exc_info[1] or "").partition("\n")[0]
            line["exc_message"] = redact(first[:500])
        # What json.dumps leaves as it is with ensure_ascii=False, escaped: line breaks to
        # Unicode (str.splitlines, log shippers: a record is one line by every reckoning)
        # and controls a terminal showing the log would act on (an 8-bit CSI).
        return printable_json(json.dumps(line, ensure_ascii=self.ascii_only, default=str))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, _STRUCTURED, None) or {}
        tail = "".join(f" {k}={v}" for k, v in fields.items())
        # A terminal reads this: what people, models and errors wrote is escaped, so it
        # neither acts on the terminal (ESC sequences) nor starts a line of its own.
        line = printable(
            f"{_timestamp(record)} {record.levelname:<7} {record.name}: {record.getMessage()}{tail}"
        )
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += "\n" + printable(record.exc_text, keep="\n")
        return line


# Libraries that would print payloads (Bolt's "unhandled request" warning quotes the whole
# body, message text included) or chatter on every reconnect: kept at WARNING or above
# unless the operator asked for DEBUG. httpx2 logs every request's URL at INFO: each MCP
# health check and call, and a key a hosted MCP server's URL carries.
_QUIET = {
    "slack_bolt": logging.ERROR,
    "slack_sdk": logging.WARNING,
    "aiohttp.access": logging.WARNING,
    "httpx2": logging.WARNING,
}


_python = logging.getLogger("signoff.python")


def _crashed(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(exc_type, KeyboardInterrupt):  # Ctrl-C is answered by the command
        sys.__excepthook__(exc_type, exc, tb)
        return
    _python.critical("signoff stopped on an unexpected error", exc_info=(exc_type, exc, tb))


def _exc_info(
    args: threading.ExceptHookArgs | sys.UnraisableHookArgs,
) -> tuple[type[BaseException], BaseException, TracebackType | None] | None:
    if args.exc_value is None:
        return None
    return (args.exc_type, args.exc_value, args.exc_traceback)


def _thread_failed(args: threading.ExceptHookArgs) -> None:
    if issubclass(args.exc_type, SystemExit):  # as the default hook: a quiet end
        return
    name = args.thread.name if args.thread is not None else "unknown"
    _python.error("an exception escaped thread %s", name, exc_info=_exc_info(args))


def _unraisable(args: sys.UnraisableHookArgs) -> None:
    what = args.err_msg or "Exception ignored in"
    try:
        what += f": {args.object!r}" if args.object is not None else ""
    except Exception:  # a broken __repr__, as the default hook allows for
        pass
    _python.error("%s", what, exc_info=_exc_info(args))


def _route_python_output() -> None:
    """What Python writes to stderr itself goes through the handler too, so that JSON
    logs stay JSON lines: warnings, an exception escaping a thread or raised where nobody
    can catch it (``__del__``, a finalizer), and one that ends the process. asyncio's
    own (a task's exception never retrieved) already goes to the ``asyncio`` logger."""
    logging.captureWarnings(True)
    threading.excepthook = _thread_failed
    sys.unraisablehook = _unraisable
    sys.excepthook = _crashed


def lean_records() -> None:
    """Python's records note the thread, process and multiprocessing names, which no
    formatter of ours shows; each line looked them up (logging's documented switches)."""
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def setup_logging(
    *,
    format: LogFormat | None = None,
    level: int | str = logging.INFO,
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Route every logger, and what Python itself prints on stderr, to one handler on
    ``stream`` (stderr): JSON lines unless the stream is a terminal or ``format`` says
    otherwise. Replaces handlers set before."""
    stream = stream if stream is not None else sys.stderr
    if format is None:
        format = "text" if _isatty(stream) else "json"
    lean_records()
    handler = logging.StreamHandler(stream)
    utf8 = codecs.lookup(getattr(stream, "encoding", None) or "utf-8").name == "utf-8"
    handler.setFormatter(
        JsonFormatter(ascii_only=not utf8) if format == "json" else TextFormatter()
    )
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    numeric = logging.getLevelName(level) if isinstance(level, str) else level
    root.setLevel(numeric)
    for name, floor in _QUIET.items():
        logging.getLogger(name).setLevel(logging.DEBUG if numeric <= logging.DEBUG else floor)
    quiet_mcp_sdk()
    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, ClientMistakes) for f in server.filters):
        server.addFilter(ClientMistakes())
    if stream is sys.stderr:  # where Python writes them; a handler elsewhere (a test's) is not
        _route_python_output()
    return handler


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
