"""Word that signoff posted in a thread, for whoever keeps track of what Slack shows there.

Slack clears a thread's status line when the app posts in it, so the live view needs to
know of every post (a reply, a card, a stream's start) to neither clear the line again
nor leave it set. A post counts from when its request was *sent*: only a status set
before that is surely cleared by it.
"""

from __future__ import annotations

from collections.abc import Callable

from sessions import ThreadKey

__all__ = ["PostWatcher", "ThreadPosts"]

PostWatcher = Callable[[ThreadKey, float, bool], None]  # (thread, sent at, is a card)


class ThreadPosts:
    def __init__(self) -> None:
        self._watchers: list[PostWatcher] = []

    def watch(self, watcher: PostWatcher) -> None:
        self._watchers.append(watcher)

    def posted(self, thread: ThreadKey, *, sent_at: float, card: bool = False) -> None:
        """A post in ``thread`` landed; its request left at ``sent_at`` (``time.monotonic``)."""
        for watcher in self._watchers:
            watcher(thread, sent_at, card)
