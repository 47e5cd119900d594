"""Who opened signoff's App Home, kept so that a restarted bot keeps their tabs true.

Slack shows a person the Home view last published for them until the bot publishes
another; a process learns who looks at it only when they open it (``app_home_opened``).
Without this list, a Home drawn before a restart kept listing a request as waiting after
it was decided. ``home-viewers.jsonl`` holds a line per person a process saw open their
Home (appended the first time that process sees them, and again when it had let them
go); a start reads the newest ``limit`` people, and rewrites the file when it has grown
past twice that, as ``add`` does too every ``limit`` lines it appends.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Literal

from pydantic import ValidationError, field_validator

from .atomic import append_line, replace_atomically
from .clock import Clock, utc_iso
from .errors import SessionsError
from .home import Home
from .ids import check_slack_id
from .jsonl import read_jsonl
from .records import Record

__all__ = ["HomeViewer", "HomeViewers"]

log = logging.getLogger("signoff.home")

FILE = "home-viewers.jsonl"


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

    def load(self, *, limit: int) -> list[str]:
        """The people who opened their Home, least recently seen first, at most ``limit``.
        A file that cannot be read is logged and read as empty: it only keeps tabs fresh."""
        self._limit, self._added = limit, 0
        seen: OrderedDict[str, None] = OrderedDict()
        lines = 0
        try:
            for raw in read_jsonl(self.path, unsynced=True):
                lines += 1
                try:
                    user = HomeViewer.model_validate(raw).user
                except ValidationError:
                    continue
                seen[user] = None
                seen.move_to_end(user)
        except (OSError, SessionsError) as exc:
            log.warning("cannot read %s (Home tabs refresh once opened again): %s", self.path, exc)
            return []
        while len(seen) > limit:
            seen.popitem(last=False)
        people = list(seen)
        if lines > 2 * limit:
            self._rewrite(people)
        return people

    def add(self, user: str) -> None:
        """Remember ``user`` (not synced: a line lost in a crash only means a tab that
        refreshes once its person opens it again)."""
        record = HomeViewer(user=user, at=utc_iso(self.clock.now()))
        try:
            append_line(self.path, record.model_dump_json(), sync=False)
        except OSError as exc:
            log.warning("cannot remember that %s opened their Home: %s", user, exc)
            return
        self._added += 1
        # A bot that runs for months appends a person again each time one it let go of
        # comes back: compacted here too, not only at start, the file stays bounded.
        if self._limit is not None and self._added > self._limit:
            self.load(limit=self._limit)

    def _rewrite(self, people: list[str]) -> None:
        at = utc_iso(self.clock.now())
        data = "".join(HomeViewer(user=u, at=at).model_dump_json() + "\n" for u in people)
        try:
            replace_atomically(self.path, data.encode())
        except OSError as exc:
            log.warning("cannot compact %s: %s", self.path, exc)
