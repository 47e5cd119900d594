"""``python -m bench.bare_bot``: the baseline, a bare Bolt bot doing signoff's job.

On each ``app_mention`` it acks (Bolt's auto-ack), makes one model call through the
official anthropic SDK (``ANTHROPIC_BASE_URL``, the same fake server signoff uses) and
posts the answer in the thread with one ``chat.postMessage``. Nothing is stored. Slack
settings come from the same variables ``signoff run`` reads.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import anthropic
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

__all__ = ["main"]


async def _run() -> None:
    client = AsyncWebClient(
        token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]
    )
    app = AsyncApp(client=client)
    model = anthropic.AsyncAnthropic(
        api_key=os.environ["ANTHROPIC_API_KEY"], base_url=os.environ["ANTHROPIC_BASE_URL"]
    )

    async def mention(event: dict[str, Any], say: Any) -> None:
        reply = await model.messages.create(
            model="claude-bench",
            max_tokens=1024,
            messages=[{"role": "user", "content": str(event.get("text") or "hi")}],
        )
        text = "".join(b.text for b in reply.content if b.type == "text")
        await client.chat_postMessage(
            channel=event["channel"], thread_ts=event.get("thread_ts") or event["ts"], text=text
        )

    async def ignore() -> None:
        return None

    app.event("app_mention")(mention)
    app.event("message")(ignore)
    handler = AsyncSocketModeHandler(app, os.environ["SLACK_APP_TOKEN"])
    await handler.start_async()  # type: ignore[no-untyped-call]


def main() -> None:
    asyncio.run(_run())


if __name__ == "__main__":
    main()
