"""Posting, editing and deleting messages: state changes plus the events they cause (and the
thread status a reply from the app clears)."""

from __future__ import annotations

import copy
from typing import Any

from localslack.blockkit import normalize_blocks
from localslack.config import WorkspaceConfig
from localslack.errors import ControlError, SlackError
from localslack.events import EventPublisher
from localslack.ids import IdSource
from localslack.records import JSON, Channel, Ephemeral
from localslack.state import Workspace
from localslack.textfmt import escape_user_text, rich_text_blocks
from localslack.thread_status import ThreadStatuses

__all__ = ["MessageOps"]


def _forwarded(original: JSON, *, channel: str, team: str, author: str, link: str) -> JSON:
    """What a message forwarded with another carries of it (the client's "Forward message"):
    an attachment quoting it, as a production ``message`` event shows one (captured in
    github.com/MercuryTechnologies/slacklinker's test data): the forwarding message's own
    text is only the comment, empty without one."""
    ts = str(original["ts"])
    return {
        "fallback": f"[{ts}] {author}: {original.get('text', '')}",
        "color": "D0D0D0",
        "author_name": author,
        "author_id": original.get("user"),
        "text": original.get("text", ""),
        "footer": "Slack Conversation",
        "ts": ts,
        "is_msg_unfurl": True,
        "message_blocks": [
            {"team": team, "channel": channel, "ts": ts,
             "message": {"blocks": copy.deepcopy(original.get("blocks", []))}}
        ],
        "channel_id": channel,
        "channel_team": team,
        "from_url": link,
    }  # fmt: skip


class MessageOps:
    def __init__(
        self,
        *,
        config: WorkspaceConfig,
        workspace: Workspace,
        events: EventPublisher,
        ids: IdSource,
        statuses: ThreadStatuses,
    ) -> None:
        self._config = config
        self._ws = workspace
        self._events = events
        self._ids = ids
        self._statuses = statuses

    # -- shaping ------------------------------------------------------------------------------

    def bot_fields(self) -> JSON:
        bot, team = self._config.bot, self._config.team_id
        return {
            "user": bot.user_id,
            "bot_id": bot.bot_id,
            "app_id": bot.app_id,
            "team": team,
            "bot_profile": {
                "id": bot.bot_id,
                "app_id": bot.app_id,
                "name": bot.name,
                "deleted": False,
                "team_id": team,
                "icons": {"image_48": "https://localslack.invalid/bot_48.png"},
            },
        }

    def normalize_blocks(self, blocks: list[Any]) -> list[Any]:
        return normalize_blocks(blocks, new_id=self._ids.block_id)

    @staticmethod
    def _number_attachments(attachments: list[Any]) -> list[Any]:
        return [{"id": i + 1, **a} if isinstance(a, dict) else a for i, a in enumerate(attachments)]

    def _content(
        self, *, text: str | None, blocks: list[Any] | None, attachments: list[Any] | None
    ) -> JSON:
        content: JSON = {"text": text or ""}
        if blocks:
            content["blocks"] = self.normalize_blocks(blocks)
        if attachments:
            content["attachments"] = self._number_attachments(attachments)
        return content

    def resolve_thread(self, channel: Channel, thread_ts: str | None) -> JSON | None:
        """The parent for a reply. Unknown thread_ts is rejected with `thread_not_found` (real
        Slack accepts it and the reply becomes invisible; failing loudly is more useful)."""
        if not thread_ts:
            return None
        parent = self._ws.thread_parent(channel.id, thread_ts)
        if parent is None:
            raise SlackError("thread_not_found")
        return parent

    # -- channel messages ---------------------------------------------------------------------

    async def post_bot(
        self,
        channel: Channel,
        *,
        text: str | None,
        blocks: list[Any] | None = None,
        attachments: list[Any] | None = None,
        thread_ts: str | None = None,
        extra: JSON | None = None,
    ) -> JSON:
        parent = self.resolve_thread(channel, thread_ts)
        message: JSON = {"type": "message", "ts": self._ws.ts.next(), **self.bot_fields()}
        message.update(self._content(text=text, blocks=blocks, attachments=attachments))
        message.update(extra or {})
        return await self._commit(channel, message, parent)

    def quote(self, channel: str, ts: str, *, base_url: str) -> JSON:
        """The attachment a message forwarding ``channel``'s message ``ts`` carries."""
        original = self._ws.get(channel, ts)
        if original is None:
            raise ControlError("message_not_found", f"{channel}/{ts}", status=404)
        author = str(original.get("user", ""))
        return _forwarded(
            original,
            channel=channel,
            team=self._config.team_id,
            author=self._ws.user_name(author) if author else "",
            link=f"{base_url}/archives/{channel}/p{ts.replace('.', '')}",
        )

    async def post_human(
        self,
        channel: Channel,
        *,
        user: str,
        text: str,
        thread_ts: str | None = None,
        escape: bool = True,
        files: list[JSON] | None = None,
        attachments: list[JSON] | None = None,
    ) -> JSON:
        parent = self.resolve_thread(channel, thread_ts)
        body = escape_user_text(text) if escape else text
        message: JSON = {
            "client_msg_id": self._ids.client_msg_id(),
            "type": "message",
            "text": body,
            "user": user,
            "ts": self._ws.ts.next(),
            "team": self._config.team_id,
        }
        if body or not (files or attachments):
            message["blocks"] = rich_text_blocks(body, block_id=self._ids.block_id())
        if files:
            # Files shared from a client: a file-only message has an empty text and no blocks.
            message.update(files=files, upload=False, display_as_bot=False)
        if attachments:
            message["attachments"] = self._number_attachments(attachments)
        theirs = self._ws.team_of(user)
        if theirs != self._config.team_id:
            # A Slack Connect guest: Slack names the author's own organization.
            message.update(team=theirs, user_team=theirs, source_team=theirs)
        return await self._commit(channel, message, parent)

    async def _commit(self, channel: Channel, message: JSON, parent: JSON | None) -> JSON:
        if parent is not None:
            message["thread_ts"] = parent["ts"]
            message["parent_user_id"] = parent.get("user")
        self._ws.store(channel.id, message)
        if parent is not None:
            self._ws.refresh_thread_summary(channel.id, parent)
            if "bot_id" in message:
                self._statuses.replied(channel=channel.id, thread_ts=parent["ts"])
        self._ws.published(channel.id, message)
        await self._events.message_posted(channel, message)
        return message

    async def update(
        self,
        channel: Channel,
        ts: str,
        *,
        text: str | None,
        blocks: list[Any] | None,
        attachments: list[Any] | None,
        metadata: JSON | None = None,
    ) -> JSON:
        message = self._ws.get(channel.id, ts)
        if message is None:
            raise SlackError("message_not_found")
        previous = copy.deepcopy(message)
        if text is not None:
            message["text"] = text
        if metadata is not None:
            message["metadata"] = metadata
        # chat.update keeps the old blocks/attachments unless new ones (possibly empty) are given.
        if blocks is not None:
            if blocks:
                message["blocks"] = self.normalize_blocks(blocks)
            else:
                message.pop("blocks", None)
        if attachments is not None:
            if attachments:
                message["attachments"] = self._number_attachments(attachments)
            else:
                message.pop("attachments", None)
        message["edited"] = {"user": message.get("user"), "ts": self._ws.ts.next()}
        self._ws.published(channel.id, message)
        await self._events.message_changed(channel, message, previous)
        return message

    async def delete(self, channel: Channel, ts: str) -> JSON:
        message = self._ws.get(channel.id, ts)
        if message is None:
            raise SlackError("message_not_found")
        previous = copy.deepcopy(message)
        parent_ts = message.get("thread_ts")
        if parent_ts == ts and message.get("reply_count"):
            # A parent with replies leaves a tombstone so the thread stays reachable.
            message.update(subtype="tombstone", text="This message was deleted.", hidden=True)
            message.pop("blocks", None)
            message.pop("attachments", None)
        else:
            self._ws.remove(channel.id, ts)
            parent = self._ws.get(channel.id, parent_ts) if parent_ts else None
            if parent is not None and parent_ts != ts:
                self._ws.refresh_thread_summary(channel.id, parent)
        await self._events.message_deleted(channel, previous)
        return previous

    # -- ephemeral ----------------------------------------------------------------------------

    def post_ephemeral(
        self,
        channel: Channel,
        *,
        recipient: str,
        text: str | None,
        blocks: list[Any] | None = None,
        attachments: list[Any] | None = None,
        thread_ts: str | None = None,
    ) -> Ephemeral:
        message: JSON = {"type": "message", "subtype": "bot_message", "ts": self._ws.ts.next()}
        message.update(self.bot_fields())
        message.update(self._content(text=text, blocks=blocks, attachments=attachments))
        item = Ephemeral(
            channel=channel.id,
            recipient=recipient,
            ts=message["ts"],
            message=message,
            thread_ts=thread_ts or None,
        )
        self._ws.add_ephemeral(item)
        return item

    def replace_ephemeral(
        self,
        item: Ephemeral,
        *,
        text: str | None,
        blocks: list[Any] | None,
        attachments: list[Any] | None,
    ) -> None:
        item.message.update(self._content(text=text, blocks=blocks, attachments=attachments))
        if not blocks:
            item.message.pop("blocks", None)
        self._ws.ephemeral_watch.publish(item.to_dict())
