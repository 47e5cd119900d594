"""Events API payloads generated from workspace changes, filtered by the app's subscriptions.

Message events go out as ``message.channels``, ``message.groups`` (private channels,
``channel_type: "group"``), ``message.mpim`` (group DMs) or ``message.im`` (DMs with the app, ``channel_type: "im"``),
each only when subscribed (and the config refuses a subscription without its scope). A DM
never yields ``app_mention``. Message metadata travels in message events without its
``event_payload`` unless the app declared the event type (see metadata.py). Besides messages:
reactions, ``app_home_opened``, ``agent_session_stopped`` and ``subteam_members_changed``."""

from __future__ import annotations

import copy
import random

from localslack.config import WorkspaceConfig
from localslack.deliveries import Delivery
from localslack.ids import Clock, IdSource, TsSource
from localslack.metadata import visible_metadata
from localslack.records import JSON, Channel
from localslack.socketmode import SocketHub
from localslack.textfmt import mentioned_users

__all__ = ["EventPublisher"]

# Message keys that belong to the stored message but never appear in the event.
_HISTORY_ONLY = (
    "reply_count",
    "reply_users",
    "reply_users_count",
    "latest_reply",
    "is_locked",
    "subscribed",
    "reactions",
)


class EventPublisher:
    def __init__(
        self,
        *,
        config: WorkspaceConfig,
        ids: IdSource,
        clock: Clock,
        ts: TsSource,
        hub: SocketHub,
        rng: random.Random,
    ) -> None:
        self._config = config
        self._ids = ids
        self._clock = clock
        self._ts = ts
        self._hub = hub
        self._rng = rng

    def subscribed(self, name: str) -> bool:
        return name in self._config.subscribed_events

    def _message_subscription(self, channel: Channel) -> str:
        if channel.is_im:
            return "message.im"
        if channel.is_mpim:
            return "message.mpim"
        return "message.groups" if channel.is_private else "message.channels"

    def _wants_messages(self, channel: Channel) -> bool:
        return self._can_see(channel) and self.subscribed(self._message_subscription(channel))

    def _shown(self, message: JSON) -> JSON:
        return visible_metadata(
            message, include_all=False, declared=self._config.declared_metadata_events
        )

    def _can_see(self, channel: Channel) -> bool:
        # Slack only sends message events for conversations the app's bot user is in.
        return self._config.bot.user_id in channel.members

    def _shared(self, channel: Channel) -> bool:
        """Is ``channel`` shared with another organization (Slack Connect)?"""
        outside = {
            u.id for u in self._config.users if u.team_id not in (None, self._config.team_id)
        }
        return bool(channel.host_team) or bool(channel.members & outside)

    def callback(self, event: JSON, channel: Channel | None = None) -> JSON:
        """The outer `event_callback` object (notes §4.1). An event in a channel another
        organization created names that organization as ``team_id``; ``authorizations``
        always names this installation."""
        cfg = self._config
        return {
            "token": cfg.verification_token,
            "team_id": (channel.host_team if channel else "") or cfg.team_id,
            "context_team_id": cfg.team_id,
            "context_enterprise_id": None,
            "api_app_id": cfg.bot.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": self._ids.event_id(),
            "event_time": int(self._clock()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": cfg.team_id,
                    "user_id": cfg.bot.user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": channel is not None and self._shared(channel),
            "event_context": self._ids.event_context(),
        }

    async def _publish(self, event: JSON, channel: Channel | None = None) -> Delivery:
        body = self.callback(event, channel)
        return await self._hub.deliver(
            type="events_api",
            payload=body,
            accepts_response_payload=False,
            event_id=body["event_id"],
        )

    def _message_event(self, channel: Channel, message: JSON) -> JSON:
        shown = self._shown(message)
        event = {k: copy.deepcopy(v) for k, v in shown.items() if k not in _HISTORY_ONLY}
        event.update(channel=channel.id, event_ts=message["ts"], channel_type=channel.channel_type)
        if message.get("files"):
            event["subtype"] = "file_share"
        # A parent message carries thread_ts only once it has replies; the event is for the
        # message as it was posted.
        if event.get("thread_ts") == message["ts"]:
            event.pop("thread_ts")
        return event

    async def message_posted(self, channel: Channel, message: JSON) -> list[Delivery]:
        """`message` (if subscribed) and, for a human mentioning the bot, `app_mention`."""
        events: list[JSON] = []
        visible = self._can_see(channel)
        if self._wants_messages(channel):
            events.append(self._message_event(channel, message))
        author = message.get("user")
        is_human = "bot_id" not in message and author != self._config.bot.user_id
        if (
            visible
            and not channel.is_im
            and is_human
            and self.subscribed("app_mention")
            and self._config.bot.user_id in mentioned_users(str(message.get("text", "")))
        ):
            events.append(self._app_mention(channel, message))
        # Slack makes no ordering promise between the two copies; neither should tests.
        self._rng.shuffle(events)
        return [await self._publish(event, channel) for event in events]

    def _app_mention(self, channel: Channel, message: JSON) -> JSON:
        event: JSON = {
            "type": "app_mention",
            "user": message["user"],
            "text": message["text"],
            "ts": message["ts"],
            "team": message.get("team", self._config.team_id),
            "channel": channel.id,
            "event_ts": message["ts"],
        }
        for key in ("client_msg_id", "blocks", "attachments", "user_team", "source_team"):
            if key in message:
                event[key] = copy.deepcopy(message[key])
        if message.get("thread_ts") and message["thread_ts"] != message["ts"]:
            event["thread_ts"] = message["thread_ts"]
            event["parent_user_id"] = message.get("parent_user_id")
        return event

    async def message_changed(self, channel: Channel, new: JSON, previous: JSON) -> None:
        if not self._wants_messages(channel):
            return
        now = self._ts.next()
        await self._publish(
            {
                "type": "message",
                "subtype": "message_changed",
                "message": self._shown(new),
                "previous_message": self._shown(previous),
                "channel": channel.id,
                "hidden": True,
                "ts": now,
                "event_ts": now,
                "channel_type": channel.channel_type,
            },
            channel,
        )

    async def message_deleted(self, channel: Channel, previous: JSON) -> None:
        if not self._wants_messages(channel):
            return
        now = self._ts.next()
        await self._publish(
            {
                "type": "message",
                "subtype": "message_deleted",
                "previous_message": self._shown(previous),
                "channel": channel.id,
                "hidden": True,
                "deleted_ts": previous["ts"],
                "ts": now,
                "event_ts": now,
                "channel_type": channel.channel_type,
            },
            channel,
        )

    async def reaction(
        self, *, added: bool, channel: Channel, message: JSON, user: str, name: str
    ) -> None:
        kind = "reaction_added" if added else "reaction_removed"
        if not (self._can_see(channel) and self.subscribed(kind)):
            return
        await self._publish(
            {
                "type": kind,
                "user": user,
                "reaction": name,
                "item_user": message.get("user"),
                "item": {"type": "message", "channel": channel.id, "ts": message["ts"]},
                "event_ts": self._ts.next(),
            },
            channel,
        )

    async def app_home_opened(
        self, *, user: str, channel: str, tab: str, view: JSON | None
    ) -> Delivery | None:
        """A person opened the app's Home (``tab="home"``) or Messages tab; `view` is their
        published Home tab, sent only for the home tab and only once one was published."""
        if not self.subscribed("app_home_opened"):
            return None
        event: JSON = {
            "type": "app_home_opened",
            "user": user,
            "channel": channel,
            "tab": tab,
            "event_ts": self._ts.next(),
        }
        if view is not None and tab == "home":
            event["view"] = view
        return await self._publish(event)

    async def agent_session_stopped(
        self, *, user: str, channel: Channel, thread_ts: str, streaming_message_ts: list[str]
    ) -> Delivery | None:
        """A person clicked the stop button of a processing agent session."""
        if not self.subscribed("agent_session_stopped"):
            return None
        return await self._publish(
            {
                "type": "agent_session_stopped",
                "user": user,
                "channel": channel.id,
                "thread_ts": thread_ts,
                "streaming_message_ts": list(streaming_message_ts),
                "event_ts": self._ts.next(),
            },
            channel,
        )

    async def publish_member_change(self, kind: str, *, channel: Channel, user: str) -> Delivery:
        """``member_joined_channel`` / ``member_left_channel`` as Slack's reference shows
        them (``channel_type`` is ``C`` for a public channel, ``G`` for a private one)."""
        return await self._publish(
            {
                "type": kind,
                "user": user,
                "channel": channel.id,
                "channel_type": "G" if channel.is_private else "C",
                "team": self._config.team_id,
                "event_ts": self._ts.next(),
            },
            channel,
        )

    async def publish_channel_change(self, kind: str, *, channel: Channel, user: str) -> Delivery:
        """``channel_archive`` / ``channel_unarchive`` / ``channel_deleted`` as Slack's
        reference shows them (a deletion names no user)."""
        event: JSON = {"type": kind, "channel": channel.id}
        if user:
            event["user"] = user
        if kind == "channel_archive":
            event["is_moved"] = 0
        event["event_ts"] = self._ts.next()
        return await self._publish(event, channel)

    async def subteam_members_changed(
        self,
        *,
        group: str,
        added: list[str],
        removed: list[str],
        previous_update: int,
        update: int,
    ) -> Delivery | None:
        """A user group's members changed: only the difference, as Slack sends it (its
        reference prints the counts as strings and the dates as Unix seconds)."""
        if not self.subscribed("subteam_members_changed"):
            return None
        return await self._publish(
            {
                "type": "subteam_members_changed",
                "subteam_id": group,
                "team_id": self._config.team_id,
                "date_previous_update": previous_update,
                "date_update": update,
                "added_users": list(added),
                "added_users_count": str(len(added)),
                "removed_users": list(removed),
                "removed_users_count": str(len(removed)),
                "event_ts": self._ts.next(),
            }
        )
