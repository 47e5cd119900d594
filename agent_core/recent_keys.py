"""The last ``size`` keys seen, for a process's in-memory shortcuts (thread-safe)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

__all__ = ["RecentKeys"]

K = TypeVar("K", bound=Hashable)


class RecentKeys(Generic[K]):
    """A bounded set: adding past ``size`` forgets the key used least recently."""

    def __init__(self, size: int) -> None:
        self._keys: OrderedDict[K, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()  # the socket thread's loop and the engine's

    def __contains__(self, key: K) -> bool:
        with self._lock:
            if key not in self._keys:
                return False
            self._keys.move_to_end(key)
            return True

    def add(self, key: K) -> None:
        with self._lock:
            self._keys[key] = None
            self._keys.move_to_end(key)
            if len(self._keys) > self._size:
                self._keys.popitem(last=False)
