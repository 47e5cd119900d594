"""Who opened signoff's App Home, kept so that a restarted bot keeps their tabs true.

Slack shows a person the Home view last published for them until the bot publishes
another; a process learns who looks at it only when they open it (``app_home_opened``).
Without this list, a Home drawn before a restart kept listing a request as waiting after
it was decided. ``home-viewers.jsonl`` holds a line per person a process saw open their
Home (appended the first time that process sees them, and again when it had let them
go, and once a day while they keep coming back: ``seen``); a start reads the newest
``limit`` people seen in the last 90 days, and rewrites the file (each person with the
time they were last seen) when it has grown past twice that or when fewer than half its
lines are people it keeps (aged out, unreadable), as ``add`` does too every ``limit``
lines it appends. The age limit lets go of people who left the workspace:
otherwise each start, and each change open to anyone, published a Home for them that
Slack refused, for ever (a running bot asks ``recent`` before such a change's Homes).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Literal

from pydantic import ValidationError, field_validator

from .atomic import append_line, replace_atomically
from .clock import Clock, from_utc_iso, utc_iso
from .errors import SessionsError
from .home import Home
from .ids import check_slack_id
from .jsonl import read_jsonl
from .records import Record

__all__ = ["HomeViewer", "HomeViewers"]

log = logging.getLogger("signoff.home")

FILE = "home-viewers.jsonl"
MAX_AGE = timedelta(days=90)  # not seen since: not drawn again until they open it
SEEN_AGAIN = timedelta(days=1)  # how often a person who keeps coming back is written


class HomeViewer(Record):
    schema_version: Literal[1] = 1
    user: str
    at: str

    @field_validator("user")
    @classmethod
    def _user(cls, value: str) -> str:
        return check_slack_id(value)


class HomeViewers:
    def __init__(self, home: Home, *, clock: Clock) -> None:
        self.path = home.root / FILE
        self.clock = clock
        self._limit: int | None = None
        self._added = 0  # lines appended since the last load, which compacts
        self._last: dict[str, datetime] = {}  # when each person was last written here

    def load(self, *, limit: int) -> list[str]:
        """The people who opened their Home, least recently seen first, at most ``limit``.
        A file that cannot be read is logged and read as empty: it only keeps tabs fresh."""
        self._limit, self._added = limit, 0
        seen: OrderedDict[str, datetime] = OrderedDict()
        lines = 0
        try:
            for raw in read_jsonl(self.path, unsynced=True):
                lines += 1
                try:
                    viewer = HomeViewer.model_validate(raw)
                    at = from_utc_iso(viewer.at)
                except (ValidationError, ValueError):
                    continue
                if at.tzinfo is None:
                    continue  # not one of ours: no moment to age it by (nor to compare)
                seen[viewer.user] = at
                seen.move_to_end(viewer.user)
        except (OSError, SessionsError) as exc:
            log.warning("cannot read %s (Home tabs refresh once opened again): %s", self.path, exc)
            return []
        # Everyone read is remembered with their time, those let go too: a running bot
        # must not take someone it let go of here (no longer in the file) for a person
        # it knows nothing of (``recent``).
        self._last.update(seen)
        since = self.clock.now() - MAX_AGE
        for user in [u for u, at in seen.items() if at < since]:
            del seen[user]
        while len(seen) > limit:
            seen.popitem(last=False)
        if lines > 2 * limit or len(seen) < lines // 2:
            self._rewrite(seen)
        return list(seen)

    def recent(self, user: str) -> bool:
        """Whether ``user`` was seen in the last 90 days, as far as this process knows (one
        it has no time for, as when writing them failed, counts as seen: not known gone)."""
        last = self._last.get(user)
        return last is None or self.clock.now() - last <= MAX_AGE

    def seen(self, user: str) -> None:
        """``user``, remembered already, opened or clicked in their Home again: written
        again once a day, so the age a start judges by is that of their last visit."""
        last = self._last.get(user)
        if last is None or self.clock.now() - last >= SEEN_AGAIN:
            self.add(user)

    def add(self, user: str) -> None:
        """Remember ``user`` (not synced: a line lost in a crash only means a tab that
        refreshes once its person opens it again)."""
        now = self.clock.now()
        record = HomeViewer(user=user, at=utc_iso(now))
        try:
            append_line(self.path, record.model_dump_json(), sync=False)
        except OSError as exc:
            log.warning("cannot remember that %s opened their Home: %s", user, exc)
            return
        self._added += 1
        self._last[user] = now
        # A bot that runs for months appends a person again each time one it let go of
        # comes back: compacted here too, not only at start, the file stays bounded.
        if self._limit is not None and self._added > self._limit:
            self.load(limit=self._limit)

    def _rewrite(self, people: OrderedDict[str, datetime]) -> None:
        data = "".join(
            HomeViewer(user=u, at=utc_iso(at)).model_dump_json() + "\n" for u, at in people.items()
        )
        try:
            replace_atomically(self.path, data.encode())
        except OSError as exc:
            log.warning("cannot compact %s: %s", self.path, exc)
