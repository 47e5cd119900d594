"""The layout of ``$SIGNOFF_HOME``: the one place that turns ids into paths.

Sessions and approval pointers are sharded by the two hex digits after the id's prefix
(``sessions/3f/sess_3f…/``, ``approvals/9c/appr_9c…``): ids are random or hashes, so the
256 shards fill evenly and a million sessions leave ~4k entries in each, and an id finds
its path with no index. Homes written before sharding keep their entries straight under
``sessions/`` and ``approvals/`` until ``layout.migrate_flat_layout`` moves them; until
then a look-up that misses the shard falls back to the flat path (not in a process that
ran the migration: it left nothing flat).

A thread lives in ``threads/<team>/<channel>/<shard>/<thread ts>/``, its shard two hex
digits of the CRC-32 of its ``ts`` (``ls threads/T…/C…/*/<ts>`` finds it): a channel's
threads spread over 256 directories whatever their rate, so a million of them leave ~4k
in each. Thread directories of a home from before are moved into their shards at
start-up, before anything reads them (``migrate_flat_layout``).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

from .ids import check_approval_id, check_session_id
from .records import ThreadKey

__all__ = ["Home", "home_of_session", "mark_sharded", "shard_of", "thread_shard"]

# Homes this process moved into their shards (``layout.migrate_flat_layout``): nothing in
# them is flat any more (no version since writes there), so a look-up need not stat the
# shard's path and then the flat one; that was 7 stats a mention on the event loop.
_SHARDED: set[Path] = set()


def mark_sharded(home: Home) -> None:
    _SHARDED.add(home.root)


_PREFIX = len("sess_")  # == len("appr_")


def shard_of(checked_id: str) -> str:
    """The shard directory of a validated session or approval id."""
    return checked_id[_PREFIX : _PREFIX + 2]


def thread_shard(thread_ts: str) -> str:
    """The shard directory of a validated Slack ``ts``: the low byte of its CRC-32, in hex
    (a ``ts`` is a time, so its own digits would put a burst of threads in one shard)."""
    return f"{zlib.crc32(thread_ts.encode()) & 0xFF:02x}"


def home_of_session(directory: Path) -> Home:
    """The home a session directory lives in, sharded (``sessions/3f/sess_3f…``) or flat."""
    parent = directory.parent
    if parent.name != "sessions" and parent.parent.name == "sessions":
        return Home(parent.parent.parent)
    return Home(parent.parent)


@dataclass(frozen=True)
class Home:
    root: Path

    @property
    def index_path(self) -> Path:
        return self.root / "index.sqlite3"

    @property
    def index_lock(self) -> Path:
        # Shared by every process with the index open, exclusive for a rebuild (reindex).
        return self.root / "index.lock"

    @property
    def sessions_dir(self) -> Path:
        return self.root / "sessions"

    @property
    def session_staging_dir(self) -> Path:
        # Sessions being built, each renamed into its shard when whole: what a crash left
        # here is found by listing one directory, not every shard.
        return self.sessions_dir / ".staging"

    @property
    def pointers_dir(self) -> Path:
        # approvals/<shard>/<approval_id>: a button's id finds its capsule without the index.
        return self.root / "approvals"

    @property
    def threads_dir(self) -> Path:
        return self.root / "threads"

    @property
    def quarantine_dir(self) -> Path:
        # Payloads that were acked but could never be processed (sessions/quarantine.py).
        return self.root / "quarantine"

    @property
    def upgrade_dir(self) -> Path:
        # One empty marker per one-time upgrade step done on this home (agent_core/recovery).
        return self.root / "upgrade"

    @property
    def bot_lock(self) -> Path:
        # flock: held by the one bot (``signoff run`` or ``dev``) on this home; its pid inside.
        return self.root / "bot.lock"

    @property
    def kill_switch(self) -> Path:
        # A file whose presence stops every model call and tool call, re-read each time.
        return self.root / "KILL"

    def session_shard(self, session_id: str) -> Path:
        return self.sessions_dir / shard_of(check_session_id(session_id))

    def session_dir(self, session_id: str) -> Path:
        sharded = self.session_shard(session_id) / session_id
        if self.root not in _SHARDED and not sharded.exists():
            flat = self.sessions_dir / session_id
            if flat.exists():  # a home from before sharding, not migrated yet
                return flat
        return sharded

    def pointer_path(self, approval_id: str) -> Path:
        checked = check_approval_id(approval_id)
        sharded = self.pointers_dir / shard_of(checked) / checked
        if self.root not in _SHARDED and not sharded.exists():
            flat = self.pointers_dir / checked
            if flat.exists():
                return flat
        return sharded

    def thread_dir(self, thread: ThreadKey) -> Path:
        # ThreadKey validated its parts, so none of them can contain a separator.
        return (
            self.threads_dir
            / thread.team
            / thread.channel
            / thread_shard(thread.thread_ts)
            / thread.thread_ts
        )

    def capsule_path(self, session_id: str, approval_id: str) -> Path:
        return self.session_dir(session_id) / "approvals" / f"{check_approval_id(approval_id)}.json"

    def ensure(self) -> None:
        for path in (self.root, self.sessions_dir, self.threads_dir):
            path.mkdir(parents=True, exist_ok=True)
