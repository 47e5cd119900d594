"""Reading a configuration file a person named (``SIGNOFF_CONFIG``, ``SIGNOFF_POLICY``,
``SIGNOFF_PRICE_TABLE``): a regular file of at most 1 MiB, UTF-8, parsed without running
out of stack; and checking the URLs such files and settings give.

A FIFO or a device named by mistake would block start-up forever (or feed it without end),
a file of gigabytes would be read into memory whole, and brackets nested thousands deep
end the parsers in a RecursionError: each is a ``ValueError`` here that says what it is,
for the caller to put in its own one-line error.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

__all__ = [
    "MAX_CONFIG_BYTES",
    "check_http_url",
    "config_problem",
    "parse_json",
    "parse_toml",
    "read_config_text",
    "without_credentials",
]

MAX_CONFIG_BYTES = 1 << 20


def read_config_text(path: Path) -> str:
    """The file's text; OSError when it cannot be opened (``FileNotFoundError`` when it
    does not exist), ValueError when it is no regular file, too big, or not UTF-8."""
    # O_NONBLOCK: opening a FIFO that nobody writes to would otherwise wait for a writer.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not stat.S_ISREG(mode):
            raise ValueError("not a regular file (a FIFO, a socket or a device?)")
        data = b""
        while len(data) <= MAX_CONFIG_BYTES:  # the size it says may change as it is read
            chunk = os.read(fd, MAX_CONFIG_BYTES + 1 - len(data))
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    if len(data) > MAX_CONFIG_BYTES:
        raise ValueError("larger than 1 MiB, more than any configuration needs")
    # utf-8-sig: a byte-order mark ("UTF-8 with BOM") is invisible in an editor.
    return data.decode("utf-8-sig")


def parse_toml(text: str) -> dict[str, Any]:
    """``tomllib.loads``; arrays or tables nested too deep to parse are a TOMLDecodeError."""
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise tomllib.TOMLDecodeError("arrays or tables nested too deeply") from None


def parse_json(text: str) -> Any:
    """``json.loads``; arrays or objects nested too deep to parse are a ValueError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("arrays or objects nested too deeply") from None


def check_http_url(value: str, *, example: str) -> str:
    """``value`` if an HTTP client can call it; else a ValueError quoting it. Parsed as the
    clients will: one they cannot call (no host, a port past 65535, an unclosed ``[``)
    passed a pattern, to fail at every call for as long as signoff ran."""
    try:
        url = urlsplit(value)
        port = url.port  # a ValueError unless it is a number up to 65535
        ok = url.scheme in ("http", "https") and bool(url.hostname) and port != 0
    except ValueError:
        ok = False
    if not ok or not value.isprintable() or any(c.isspace() for c in value):
        raise ValueError(
            f"must be an http(s) URL such as {example}, not {without_credentials(value)!r}"
        )
    return value


def without_credentials(url: str) -> str:
    """``url`` to quote in an error or a log: all from ``//`` to its last ``@`` hidden. Not
    to the first, nor to the first ``/``: a password may hold either, unencoded."""
    return re.sub(r"//.*@", "//…@", url, flags=re.DOTALL)


def config_problem(exc: ValidationError) -> str:
    """The first problem of a file a person wrote, as ``key.path: what is wrong``, in the
    file's words: a key it does not take is an "unknown key", and pydantic's own words
    ("Value error, ", the name of a model class of ours) are left out."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "the file"
    if first["type"] == "extra_forbidden":
        return f"{where}: unknown key"
    if first["type"] == "model_type":  # "…a valid dictionary or instance of _RuleInput"
        return f"{where}: Input should be a valid dictionary (a table)"
    return f"{where}: {str(first['msg']).removeprefix('Value error, ')}"
