"""Walking the sharded home, and moving a home from before sharding into its shards.

The migration is one rename per entry (a session or thread directory, or a hard link
then an unlink for a pointer file, so nothing is ever overwritten): a crash leaves every
entry either flat or in its shard, and running it again finishes the job. ``Home`` finds
a session or pointer either way; a thread only in its shard, so the migration runs at
start-up, where the index is opened, before anything reads a thread, and before every
reindex.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from .atomic import fsync_dir
from .home import Home, mark_sharded, shard_of, thread_shard
from .ids import check_slack_ts
from .locks import dir_lock

__all__ = [
    "Unlistable",
    "approval_ids",
    "iter_session_dirs",
    "migrate_flat_layout",
    "session_ids",
    "shard_dirs",
    "staging_dirs",
]

_SHARD = re.compile(r"[0-9a-f]{2}")
_SESSION = re.compile(r"sess_[0-9a-f]{12}")
_POINTER = re.compile(r"appr_[0-9a-f]{16}")


# Told a shard it could not list, and why; only a reader passes one (``audit``, ``verify``).
Unlistable = Callable[[Path, OSError], None]


def _names(directory: Path, unlistable: Unlistable | None = None) -> list[str]:
    """``unlistable``: a shard that cannot be listed (another user's) is told to it and
    counts as empty; without one, the error is raised: the bot, reindex and recovery must
    never take a shard they cannot read for one with no sessions."""
    try:
        return os.listdir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        if unlistable is None:
            raise
        unlistable(directory, exc)
        return []


def shard_dirs(root: Path) -> list[Path]:
    return [root / n for n in sorted(_names(root)) if _SHARD.fullmatch(n)]


def _ids(root: Path, pattern: re.Pattern[str], unlistable: Unlistable | None) -> list[str]:
    found: set[str] = set()  # a set: a migration may move one between the two listings
    for name in _names(root):
        if _SHARD.fullmatch(name):
            found.update(n for n in _names(root / name, unlistable) if pattern.fullmatch(n))
        elif pattern.fullmatch(name):
            found.add(name)
    return sorted(found)


def session_ids(home: Home, *, unlistable: Unlistable | None = None) -> list[str]:
    """Every session's id: in its shard, or still flat in a home not migrated yet;
    ``unlistable``: told each shard that cannot be listed, instead of raising."""
    return _ids(home.sessions_dir, _SESSION, unlistable)


def iter_session_dirs(
    home: Home, *, unlistable: Unlistable | None = None
) -> Iterator[tuple[str, Path]]:
    """(id, directory) of every session, unsorted, with no stat per session (reindex);
    ``unlistable`` as for ``session_ids``."""
    for name in _names(home.sessions_dir):
        if _SHARD.fullmatch(name):
            shard = home.sessions_dir / name
            for sid in _names(shard, unlistable):
                if _SESSION.fullmatch(sid):
                    yield sid, shard / sid
        elif _SESSION.fullmatch(name):
            yield name, home.sessions_dir / name


def approval_ids(home: Home, *, unlistable: Unlistable | None = None) -> list[str]:
    """Every approval's id, from its pointer (sharded or flat); ``unlistable`` as for
    ``session_ids``."""
    return _ids(home.pointers_dir, _POINTER, unlistable)


def staging_dirs(home: Home, *, from_before: bool = False) -> list[Path]:
    """Half-built session directories, in ``sessions/.staging/``; ``from_before``: also
    those older versions built as ``.new-…`` in the shards or straight under
    ``sessions/`` (a listing of every shard, so only once per home)."""
    out = [home.session_staging_dir / n for n in _names(home.session_staging_dir)]
    if from_before:
        for directory in (home.sessions_dir, *shard_dirs(home.sessions_dir)):
            out.extend(directory / n for n in _names(directory) if n.startswith(".new-"))
    return out


def _move_file(source: Path, target: Path) -> bool:
    try:
        os.link(source, target)
    except FileExistsError:
        if not os.path.samefile(source, target):
            return False  # two different files claim one id: leave both for a person
    except FileNotFoundError:
        return False  # another process moved it
    source.unlink(missing_ok=True)
    return True


def _move_dir(source: Path, target: Path) -> bool:
    try:
        os.rename(source, target)  # fails on a non-empty target: nothing is overwritten
    except OSError:
        return False  # moved by another process, or two directories claim one id
    return True


def _migrate(root: Path, pattern: re.Pattern[str], *, files: bool) -> int:
    flat = sorted(n for n in _names(root) if pattern.fullmatch(n))
    if not flat:
        return 0
    moved = 0
    touched: set[Path] = set()
    with dir_lock(root):  # one migrating process at a time
        for name in flat:
            shard = root / shard_of(name)
            shard.mkdir(exist_ok=True)
            move = _move_file if files else _move_dir
            if move(root / name, shard / name):
                moved += 1
                touched.add(shard)
        for shard in sorted(touched):
            fsync_dir(shard)
        fsync_dir(root)
    return moved


def _is_ts(name: str) -> bool:
    try:
        check_slack_ts(name)
    except ValueError:
        return False  # a shard (two hex digits), or not signoff's
    return True


def _migrate_threads(home: Home) -> int:
    """``threads/<team>/<channel>/<ts>`` → ``…/<channel>/<ts shard>/<ts>``."""
    root = home.threads_dir
    channels = [root / t / c for t in sorted(_names(root)) for c in sorted(_names(root / t))]
    flat = [(c, n) for c in channels for n in sorted(_names(c)) if _is_ts(n)]
    if not flat:
        return 0
    moved = 0
    touched: set[Path] = set()
    with dir_lock(root):  # one migrating process at a time
        for channel, ts in flat:
            shard = channel / thread_shard(ts)
            shard.mkdir(exist_ok=True)
            if _move_dir(channel / ts, shard / ts):
                moved += 1
                touched.update((shard, channel))
        for directory in sorted(touched, key=lambda p: len(p.parts), reverse=True):
            fsync_dir(directory)  # each shard's entries, then the channel's (new shards)
    return moved


def migrate_flat_layout(home: Home) -> dict[str, int]:
    """Move flat ``sessions/sess_…``, ``approvals/appr_…`` and thread directories into
    their shards; idempotent. Returns how many of each moved (all 0 on a sharded home).
    """
    moved = {
        "sessions": _migrate(home.sessions_dir, _SESSION, files=False),
        "pointers": _migrate(home.pointers_dir, _POINTER, files=True),
        "threads": _migrate_threads(home),
    }
    # Only when nothing is left flat (a move refused, say EACCES, keeps its entry where
    # it was, and a look-up must still find it there).
    if not any(
        pattern.fullmatch(n)
        for root, pattern in ((home.sessions_dir, _SESSION), (home.pointers_dir, _POINTER))
        for n in _names(root)
    ):
        mark_sharded(home)
    return moved
