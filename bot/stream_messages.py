"""The Slack calls on a streamed reply's message: stop it, finish it as its reply, delete
it, and find the ones a dead process started without learning their ``ts``.

``LiveStreams`` decides which stream ends how (and when, under its per-entry locks); this
is how each ending is said to Slack, with the errors that mean "gone already" or "this
workspace lacks that method" told apart from those delivery must retry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from sessions import ThreadKey

from .message_metadata import METADATA_TYPE, thread_messages
from .slack_errors import slack_error
from .stream_journal import StreamJournal
from .surface_support import SurfaceSupport

__all__ = ["StreamMessages"]


class StreamMessages:
    """Slack's side of the streams: ``chat.stopStream``, ``chat.update``, ``chat.delete``."""

    def __init__(
        self, client: AsyncWebClient, *, journal: StreamJournal, support: SurfaceSupport
    ) -> None:
        self.client = client
        self.journal = journal
        self.support = support
        self.bot_id = ""  # learnt from auth.test when first needed
        # chat.stopStream moves the thread's agent session (to "active" unless told): what
        # it must show then, as the live view knows it (None: leave Slack's default).
        self.session_status: Callable[[ThreadKey], str | None] = lambda thread: None
        # Told once each chat.stopStream is over, with the session status it carried: read
        # when it was sent, it may have landed after a newer one (see ``stop_stream``).
        self.session_stopped: Callable[[ThreadKey, str | None], None] = lambda t, carried: None

    async def finalize_at(
        self,
        thread: ThreadKey,
        ts: str,
        text: str,
        *,
        metadata: dict[str, Any],
        sent: str | None,
        chunks: list[dict[str, Any]] | None = None,
    ) -> bool:
        """Message ``ts`` shows ``text`` with ``metadata``; False when it is gone."""
        if sent is not None and text.startswith(sent):
            try:
                await self.stop_stream(
                    thread,
                    ts,
                    markdown_text=text[len(sent) :] or None,
                    chunks=chunks or None,
                    metadata=metadata,
                )
                return True
            except SlackApiError as exc:
                if slack_error(exc) == "message_not_found":
                    return False
                # A workspace that started the stream but lacks stopStream: the update below
                # still makes it the reply (retrying would never succeed).
                lacking = self.support.check("streams", "chat.stopStream", exc)
                if not lacking and slack_error(exc) != "message_not_in_streaming_state":
                    raise
        else:
            await self.stop_quietly(thread, ts, chunks)
        try:
            await self.client.chat_update(
                channel=thread.channel, ts=ts, text=text, metadata=metadata
            )
        except SlackApiError as exc:
            error = slack_error(exc)
            if error == "message_not_found":
                return False
            if error in ("cant_update_message", "edit_window_closed"):
                await self.delete(thread, ts)
                return False
            raise
        return True

    async def stop_quietly(
        self, thread: ThreadKey, ts: str, chunks: list[dict[str, Any]] | None
    ) -> None:
        try:
            await self.stop_stream(thread, ts, chunks=chunks or None)
        except SlackApiError as exc:
            if self.support.check("streams", "chat.stopStream", exc):
                return  # nothing to stop it with: it is updated or deleted all the same
            if slack_error(exc) not in ("message_not_in_streaming_state", "message_not_found"):
                raise

    async def stop_stream(self, thread: ThreadKey, ts: str, **args: Any) -> None:
        """chat.stopStream, which also moves the thread's agent session. The status it
        carries is the one due when it is sent, but it lands whenever it lands: after the
        turn's own "active" (a slow answer, a 429 waited out, a retry), it would bring back
        the stop button of a turn that is over. So the live view hears of every stopStream
        once it is over, and sets the session again, in the thread's order, when the
        status it carried is no longer the one due: the last call to land says the truth."""
        carried = self.session_status(thread)
        try:
            await self.client.chat_stopStream(
                channel=thread.channel, ts=ts, session_status=carried, **args
            )
        finally:
            self.session_stopped(thread, carried)

    async def delete(self, thread: ThreadKey, ts: str) -> None:
        try:
            await self.client.chat_delete(channel=thread.channel, ts=ts)
        except SlackApiError as exc:
            if slack_error(exc) != "message_not_found":
                raise

    async def strays(self, thread: ThreadKey) -> list[str]:
        """The bot's messages in the thread that carry no outbox metadata and no file:
        streams whose start was never answered (everything else signoff posts has them).
        Not a stream the journal lists with its ts: another reply's, carrying its metadata
        only once that reply's delivery finishes it (read before the thread, so one
        finished meanwhile shows its metadata there)."""
        if not self.bot_id:
            self.bot_id = str((await self.client.auth_test()).get("bot_id") or "")
        listed = {r.ts for r in await asyncio.to_thread(self.journal.all) if r.thread == thread}
        out: list[str] = []
        async for message in thread_messages(self.client, thread):
            # Marked as ours, with its payload or not: never a stray.
            marked = (message.get("metadata") or {}).get("event_type") == METADATA_TYPE
            if (
                message.get("bot_id") == self.bot_id
                and not marked
                and not message.get("files")
                and message.get("ts") != thread.thread_ts
                and message.get("ts") not in listed
            ):
                out.append(str(message["ts"]))
        return out
