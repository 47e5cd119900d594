"""Errors of the bot package (the CLI's ``main`` turns them into exit 2 and one line)::

ValueError
 └── ConfigError     a setting, SIGNOFF_CONFIG or SIGNOFF_TOOLS is wrong
"""

from __future__ import annotations

__all__ = ["ConfigError"]


class ConfigError(ValueError):
    pass
