"""A damaged index met at a bot's start: set aside, rebuilt, and said in one WARNING line.

The index is a cache of the directories (I5), so a bot that finds random bytes or another
program's database by its name has no reason to stay down until someone runs ``signoff
reindex``: it moves the file aside for a person to look at (``sessions.index_damage``)
and starts, and ``Engine.open_index`` rebuilds the index it finds missing. The terminal
commands only say so: they run beside a bot, and a rebuild is the bot's to make.
"""

from __future__ import annotations

import logging

from sessions import Home, set_aside_damaged

from .logs import log_event

__all__ = ["set_aside_damaged_index"]

log = logging.getLogger("signoff")


async def set_aside_damaged_index(home: Home) -> None:
    if (aside := await set_aside_damaged(home)) is None:
        return
    log_event(
        log,
        "index_set_aside",
        level=logging.WARNING,
        index=str(home.index_path),
        kept_as=str(aside.kept_as),
        reason=aside.reason,
        action="rebuilt from the directories",
    )
