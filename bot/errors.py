"""Errors of the bot package (the CLI's ``main`` turns them into exit 2 and one line)::

sessions.SignoffError (the root of every signoff error; also a ValueError here)
 └── ConfigError     a setting, SIGNOFF_CONFIG or SIGNOFF_TOOLS is wrong
"""

from __future__ import annotations

from sessions import SignoffError

__all__ = ["ConfigError"]


class ConfigError(SignoffError, ValueError):
    pass
