"""A LocalSlack on its own event loop in a thread, so a sync (Playwright) browser test can
drive it and the real slack_sdk client beside the page."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack, WorkspaceConfig

__all__ = ["BackgroundSlack"]

T = TypeVar("T")


class BackgroundSlack:
    def __init__(self, config: WorkspaceConfig | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.slack = LocalSlack(config or WorkspaceConfig())
        self.run(self.slack.start())
        self.client = AsyncWebClient(token=self.slack.bot_token, base_url=self.slack.api_url)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def close(self) -> None:
        self.run(self.slack.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
