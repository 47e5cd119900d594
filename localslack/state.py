"""The workspace model: directory (users, channels, DMs, groups) plus message history and
threads. Every person has a DM with the app (id ``D`` + the user id without its ``U``), as
Slack opens one when the app is installed or first written to."""

from __future__ import annotations

import copy
from collections.abc import Iterator

from localslack.config import GroupSpec, UserSpec, WorkspaceConfig
from localslack.ids import Clock, TsSource
from localslack.records import JSON, Channel, Ephemeral, StoredFile, Trigger, ViewRecord
from localslack.watch import MessageWatch

__all__ = ["Workspace", "im_channel_id"]


def im_channel_id(user_id: str) -> str:
    return "D" + user_id[1:]


class Workspace:
    def __init__(self, *, config: WorkspaceConfig, ts: TsSource, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.ts = ts
        self.users: dict[str, UserSpec] = {u.id: u for u in config.users}
        created = int(clock()) - 86400
        self.channels: dict[str, Channel] = {
            c.id: Channel(
                id=c.id,
                name=c.name,
                is_private=c.is_private or c.is_mpim,
                members=set(c.members),
                is_mpim=c.is_mpim,
                created=created,
                topic=c.topic,
                purpose=c.purpose,
                creator=c.members[0] if c.members else "",
                host_team=c.host_team or "",
            )
            for c in config.channels
        }
        for user in config.users:
            im = Channel(
                id=im_channel_id(user.id),
                name="",
                is_private=True,
                members={user.id, config.bot.user_id},
                created=created,
                is_im=True,
                im_user=user.id,
            )
            self.channels[im.id] = im
        self.groups: dict[str, GroupSpec] = {g.id: g for g in config.groups}
        # Per channel, ts -> message; ts values are issued monotonically so insertion order is
        # chronological order.
        self._messages: dict[str, dict[str, JSON]] = {cid: {} for cid in self.channels}
        self.ephemerals: list[Ephemeral] = []
        self.files: dict[str, StoredFile] = {}
        self.views: dict[str, ViewRecord] = {}
        # Published Home tabs, one per person.
        self.home_views: dict[str, ViewRecord] = {}
        self.triggers: dict[str, Trigger] = {}
        self.watch = MessageWatch()
        self.ephemeral_watch = MessageWatch()
        # Thread statuses, agent sessions, streams, Home tabs: what the browser and waiting
        # tests follow besides messages (see observe_agents.py).
        self.surface_watch = MessageWatch()

    # -- directory -------------------------------------------------------------------------

    @property
    def bot_user_id(self) -> str:
        return self.config.bot.user_id

    def channel(self, ref: str | None) -> Channel | None:
        """Resolve a channel id or name (`#ops`/`ops`), as chat.postMessage accepts both, or a
        user id, which means that person's DM with the app."""
        if not ref:
            return None
        if ref in self.channels:
            return self.channels[ref]
        if ref in self.users:
            return self.channels.get(im_channel_id(ref))
        name = ref.removeprefix("#")
        return next((c for c in self.channels.values() if name and c.name == name), None)

    def named_channels(self) -> list[Channel]:
        """Public and private channels, without the DMs."""
        return [c for c in self.channels.values() if not c.is_im]

    def is_user(self, user_id: str) -> bool:
        return user_id in self.users or user_id == self.bot_user_id

    def user_name(self, user_id: str) -> str:
        if user_id == self.bot_user_id:
            return self.config.bot.name
        spec = self.users.get(user_id)
        return spec.name if spec else user_id

    def team_of(self, user_id: str) -> str:
        """The team a person belongs to: the workspace's, or a Slack Connect guest's own."""
        spec = self.users.get(user_id)
        return (spec.team_id if spec else None) or self.config.team_id

    def user_object(self, user_id: str) -> JSON | None:
        """users.info's `user` object."""
        cfg = self.config
        if user_id == self.bot_user_id:
            name, real, email, admin, is_bot = cfg.bot.name, cfg.bot.name, "", False, True
            tz = "America/Los_Angeles"
        elif (spec := self.users.get(user_id)) is not None:
            name, real, email, admin, is_bot = (
                spec.name,
                spec.real_name or spec.name,
                spec.email or f"{spec.name}@{cfg.team_domain}.test",
                spec.is_admin,
                False,
            )
            tz = spec.tz
        else:
            return None
        # A Slack Connect guest's object names their own team, as their clicks do.
        team = cfg.team_id if is_bot else self.team_of(user_id)
        profile: JSON = {
            "real_name": real,
            "display_name": name,
            "real_name_normalized": real,
            "display_name_normalized": name,
            "team": team,
            "image_48": f"https://localslack.invalid/avatars/{user_id}_48.png",
        }
        if is_bot:
            profile.update(bot_id=cfg.bot.bot_id, api_app_id=cfg.bot.app_id, always_active=True)
        else:
            profile["email"] = email
        return {
            "id": user_id,
            "team_id": team,
            "name": name,
            "deleted": False,
            "real_name": real,
            "tz": tz,
            "is_admin": admin,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": int(self.clock()),
            "profile": profile,
        }

    # -- messages ---------------------------------------------------------------------------

    def get(self, channel_id: str, ts: str) -> JSON | None:
        return self._messages.get(channel_id, {}).get(ts)

    def store(self, channel_id: str, message: JSON) -> None:
        self._messages.setdefault(channel_id, {})[message["ts"]] = message

    def remove(self, channel_id: str, ts: str) -> JSON | None:
        return self._messages.get(channel_id, {}).pop(ts, None)

    def delete_channel(self, channel_id: str) -> None:
        """The channel and its messages are gone (an admin deleted it)."""
        self.channels.pop(channel_id, None)
        self._messages.pop(channel_id, None)

    def messages(self, channel_id: str) -> list[JSON]:
        return list(self._messages.get(channel_id, {}).values())

    def all_messages(self) -> Iterator[JSON]:
        """Every stored message (copies carry their `channel`), oldest first per channel."""
        for channel_id, by_ts in self._messages.items():
            for message in by_ts.values():
                yield {**message, "channel": channel_id}

    def replies(self, channel_id: str, parent_ts: str) -> list[JSON]:
        return [
            m
            for m in self.messages(channel_id)
            if m.get("thread_ts") == parent_ts and m["ts"] != parent_ts
        ]

    def thread_parent(self, channel_id: str, thread_ts: str) -> JSON | None:
        """The top-level message a new reply should attach to. A reply's ts resolves to its
        parent: Slack docs warn against it, and real Slack files such replies under the parent."""
        message = self.get(channel_id, thread_ts)
        if message is None:
            return None
        parent_ts = message.get("thread_ts")
        if parent_ts and parent_ts != message["ts"]:
            return self.get(channel_id, parent_ts)
        return message

    def refresh_thread_summary(self, channel_id: str, parent: JSON) -> None:
        """Recompute reply_count & co. on a parent, the way conversations.history shows them."""
        replies = self.replies(channel_id, parent["ts"])
        if not replies:
            for key in ("reply_count", "reply_users", "reply_users_count", "latest_reply"):
                parent.pop(key, None)
            parent.pop("thread_ts", None)
            return
        users = list(dict.fromkeys(r.get("user", "") for r in replies))
        parent.update(
            thread_ts=parent["ts"],
            reply_count=len(replies),
            reply_users=users,
            reply_users_count=len(users),
            latest_reply=replies[-1]["ts"],
            is_locked=False,
            subscribed=False,
        )

    def published(self, channel_id: str, message: JSON) -> None:
        self.watch.publish({**copy.deepcopy(message), "channel": channel_id})

    # -- ephemeral --------------------------------------------------------------------------

    def add_ephemeral(self, item: Ephemeral) -> None:
        self.ephemerals.append(item)
        self.ephemeral_watch.publish(item.to_dict())

    def find_ephemeral(self, *, recipient: str, ts: str) -> Ephemeral | None:
        return next(
            (
                e
                for e in self.ephemerals
                if e.recipient == recipient and e.ts == ts and not e.deleted
            ),
            None,
        )

    def ephemerals_for(self, *, recipient: str, channel: str | None = None) -> list[Ephemeral]:
        return [
            e
            for e in self.ephemerals
            if e.recipient == recipient and not e.deleted and channel in (None, e.channel)
        ]
