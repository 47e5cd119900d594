"""Errors of the bot package (the CLI's ``main`` turns them into exit 2 and one line,
rendered by ``error_line``)::

sessions.SignoffError (the root of every signoff error; also a ValueError here)
 └── ConfigError     a setting, SIGNOFF_CONFIG or SIGNOFF_TOOLS is wrong
"""

from __future__ import annotations

from sessions import SignoffError

from .terminal_text import printable

__all__ = ["ConfigError", "error_line"]


class ConfigError(SignoffError, ValueError):
    pass


def error_line(message: str) -> str:
    """The one line every error of the command line is, with a newline to end it.

    Messages quote what a user wrote (a TOML key, an argument), which may hold a line
    break or a terminal escape: those are shown escaped, never acted on.
    """
    return f"signoff: error: {printable(message)}\n"
