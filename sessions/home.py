"""The layout of ``$SIGNOFF_HOME``: the one place that turns ids into paths."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .ids import check_approval_id, check_session_id
from .records import ThreadKey

__all__ = ["Home", "default_home"]


def default_home() -> Path:
    return Path(os.environ.get("SIGNOFF_HOME") or Path.cwd() / ".signoff").resolve()


@dataclass(frozen=True)
class Home:
    root: Path

    @property
    def index_path(self) -> Path:
        return self.root / "index.sqlite3"

    @property
    def sessions_dir(self) -> Path:
        return self.root / "sessions"

    @property
    def threads_dir(self) -> Path:
        return self.root / "threads"

    @property
    def quarantine_dir(self) -> Path:
        # Payloads that were acked but could never be processed (sessions/quarantine.py).
        return self.root / "quarantine"

    @property
    def kill_switch(self) -> Path:
        # A file whose presence stops every model call and tool call, re-read each time.
        return self.root / "KILL"

    def session_dir(self, session_id: str) -> Path:
        return self.sessions_dir / check_session_id(session_id)

    def thread_dir(self, thread: ThreadKey) -> Path:
        # ThreadKey validated its parts, so none of them can contain a separator.
        return self.threads_dir / thread.team / thread.channel / thread.thread_ts

    def capsule_path(self, session_id: str, approval_id: str) -> Path:
        return self.session_dir(session_id) / "approvals" / f"{check_approval_id(approval_id)}.json"

    def ensure(self) -> None:
        for path in (self.root, self.sessions_dir, self.threads_dir):
            path.mkdir(parents=True, exist_ok=True)
