"""One environment value read as what it stands for: a switch, a path, a bind address.

``config.Settings.from_env`` reads each setting through these; a value that is not one
is a ConfigError (or, for ``parse_bind``, a ValueError pydantic reports) naming it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from sessions import FAILPOINTS, busy_wait_from

from .errors import ConfigError

__all__ = [
    "existing_default",
    "parse_bind",
    "path_setting",
    "steering",
    "switch",
    "unknown_settings",
]

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def unknown_settings(unknown: Sequence[str], known: Sequence[str]) -> str:
    """What to say of variables named like ours that we do not read: a name holding a
    space (``SIGNOFF_HOME =/data`` in an env file) quoted, as it would otherwise read as
    one we know, and the name the first was likely meant to be."""
    shown = [n if re.fullmatch(r"[A-Z0-9_]+", n) else repr(n) for n in unknown]
    # Compared without the prefix every name shares, which alone would make any two alike.
    bare = {k.removeprefix("SIGNOFF_"): k for k in known}
    typed = unknown[0].strip().upper().removeprefix("SIGNOFF_")
    close = difflib.get_close_matches(typed, list(bare), n=1, cutoff=0.7)
    meant = f" (did you mean {bare[close[0]]}?)" if close else ""
    return f"unknown setting {', '.join(shown)}{meant}; known: {', '.join(known)}"


def steering(env: Mapping[str, str]) -> None:
    """The settings that steer tests and benchmarks, checked as the others are: each is
    read where it is used (``sessions``), which can only take a value it cannot use for
    the default, so a typo measured or crashed nothing without a word."""
    if (wait := env.get("SIGNOFF_BUSY_WAIT_S")) is not None:
        try:
            busy_wait_from(wait)
        except ValueError as exc:
            raise ConfigError(f"configuration: SIGNOFF_BUSY_WAIT_S: {exc}") from None
    # Compared as sessions compares them: " 0" is not "0", and left fsync on.
    fsync = env.get("SIGNOFF_FSYNC", "")
    if fsync not in ("", "0", "1"):
        raise ConfigError(
            f"configuration: SIGNOFF_FSYNC: use 0 (no fsync: never on a real home) or 1, "
            f"not {fsync!r}"
        )
    point = env.get("SIGNOFF_FAILPOINT", "")
    if point and point not in FAILPOINTS:
        raise ConfigError(
            f"configuration: SIGNOFF_FAILPOINT: no such point {point!r} "
            "(sessions/failpoints.py lists them)"
        )


def switch(name: str, value: str | None, *, default: bool, say: str) -> bool:
    if value is None:
        return default
    if value.lower() not in _TRUE + _FALSE:
        raise ConfigError(f"configuration: {name}: use {say}, not {value!r}")
    return value.lower() in _TRUE


def path_setting(name: str, text: str) -> Path:
    """Absolute, ``~`` expanded and links resolved: what a unit or env file gives is not
    expanded by a shell, and the file named is the one found now, wherever it is read."""
    try:
        return Path(text).expanduser().resolve()
    except RuntimeError as exc:  # ~nosuchuser, a symlink loop
        raise ConfigError(f"configuration: {name}: cannot use {text!r}: {exc}") from None
    except FileNotFoundError:  # relative, from a directory removed since the shell was in it
        raise ConfigError(
            f"configuration: {name}: cannot use {text!r}: the working directory no longer "
            "exists (give an absolute path, or cd to one that does)"
        ) from None


def existing_default(config: Path, home: Path) -> bool:
    """Whether the home holds the default config; a home that may not be looked into
    (another user's) is named as what is wrong, not the file nobody made in it."""
    try:
        return config.exists()
    except OSError as exc:
        why = exc.strerror or exc
        raise ConfigError(f"configuration: cannot use SIGNOFF_HOME {home}: {why}") from None


def parse_bind(text: str) -> tuple[str, int] | None:
    """``host:port`` (``[::1]:9464`` for IPv6) or ``off``; raises ValueError otherwise."""
    value = text.strip()
    if value.lower() == "off":
        return None
    host, sep, port = value.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    # [0-9], not isdigit(): that takes other scripts' digits, and ² (which int() refuses).
    fits = re.fullmatch(r"[0-9]{1,5}", port) and int(port) <= 65535
    if not sep or not host or "[" in host or "]" in host or not fits:
        raise ValueError(f"must be host:port (e.g. 127.0.0.1:9464) or off, not {text!r}")
    return host, int(port)
