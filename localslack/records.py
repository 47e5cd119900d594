"""Mutable workspace records that are not plain message dicts."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from typing import Any

__all__ = ["JSON", "Channel", "Ephemeral", "StoredFile", "Trigger", "ViewRecord"]

JSON = dict[str, Any]


@dataclass
class Channel:
    """A conversation: a public or private channel, a group DM (``is_mpim``, private), or the
    DM (``is_im``) between one person (``im_user``) and the app. Private channels may carry
    Slack's legacy ``G`` ids."""

    id: str
    name: str
    is_private: bool
    members: set[str]
    created: int
    topic: str = ""
    purpose: str = ""
    creator: str = ""
    is_im: bool = False
    im_user: str = ""
    is_mpim: bool = False
    # Archived (``conversations.archive``, or a person in the client): read-only. Members
    # stay, as Slack keeps them for an unarchive.
    is_archived: bool = False
    # Created by another organization and shared with this one (``ChannelSpec.host_team``).
    host_team: str = ""

    @property
    def channel_type(self) -> str:
        """The `channel_type` of message events: im, mpim, group (private) or channel."""
        if self.is_im:
            return "im"
        if self.is_mpim:
            return "mpim"
        return "group" if self.is_private else "channel"

    def info(self, *, viewer: str) -> JSON:
        """conversations.info's `channel` object as seen by `viewer`."""
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.im_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        # Private channels created before 2021 have G ids and is_group instead of is_channel.
        legacy_group = self.is_private and self.id.startswith("G") and not self.is_mpim
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not legacy_group and not self.is_mpim,
            "is_group": legacy_group,
            "is_im": False,
            "is_mpim": self.is_mpim,
            "is_private": self.is_private,
            "created": self.created,
            "creator": self.creator,
            "is_archived": self.is_archived,
            "is_general": self.name == "general",
            "unlinked": 0,
            "name_normalized": self.name,
            "is_shared": False,
            "is_org_shared": False,
            "is_ext_shared": False,
            "is_pending_ext_shared": False,
            "is_member": viewer in self.members,
            "topic": {"value": self.topic, "creator": self.creator, "last_set": 0},
            "purpose": {"value": self.purpose, "creator": self.creator, "last_set": 0},
            "previous_names": [],
        }


@dataclass
class Ephemeral:
    """An ephemeral message: visible to one user only, never stored in channel history."""

    channel: str
    recipient: str
    ts: str
    message: JSON
    thread_ts: str | None = None
    deleted: bool = False

    def to_dict(self) -> JSON:
        return {
            **self.message,
            "channel": self.channel,
            "recipient": self.recipient,
            "is_ephemeral": True,
            "deleted": self.deleted,
            **({"thread_ts": self.thread_ts} if self.thread_ts else {}),
        }


@dataclass
class StoredFile:
    id: str
    name: str
    length: int
    created: int
    user: str
    title: str = ""
    alt_txt: str | None = None
    snippet_type: str | None = None
    content: bytes | None = None
    completed: bool = False
    shares: list[tuple[str, str]] = field(default_factory=list)

    @property
    def mimetype(self) -> str:
        guessed, _ = mimetypes.guess_type(self.name)
        return guessed or "application/octet-stream"

    def to_api(self, *, base_url: str, team_id: str) -> JSON:
        url = f"{base_url}/files-pri/{team_id}-{self.id}/{self.name}"
        ext = self.name.rsplit(".", 1)[-1] if "." in self.name else "binary"
        channels = sorted({channel for channel, _ in self.shares})
        return {
            "id": self.id,
            "created": self.created,
            "timestamp": self.created,
            "name": self.name,
            "title": self.title or self.name,
            "mimetype": self.mimetype,
            "filetype": ext,
            "pretty_type": ext.upper(),
            "user": self.user,
            "user_team": team_id,
            "editable": False,
            "size": len(self.content) if self.content is not None else self.length,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": bool(channels),
            "public_url_shared": False,
            "url_private": url,
            "url_private_download": f"{url}?download=1",
            "permalink": f"{base_url}/files/{self.user}/{self.id}/{self.name}",
            "channels": channels,
            "groups": [],
            "ims": [],
            "comments_count": 0,
            **({"alt_txt": self.alt_txt} if self.alt_txt else {}),
        }


@dataclass
class Trigger:
    id: str
    user: str
    created_at: float
    used: bool = False


@dataclass
class ViewRecord:
    """A modal as Slack keeps it: the app's definition plus identity, hash and stack position."""

    id: str
    user: str
    definition: JSON
    hash: str
    root_view_id: str
    team_id: str
    app_id: str
    bot_id: str
    previous_view_id: str | None = None
    is_open: bool = True
    errors: dict[str, str] = field(default_factory=dict)

    def to_api(self, *, state_values: JSON | None = None) -> JSON:
        d = self.definition
        if d.get("type") == "home":
            return self._home_api(state_values)
        return {
            "id": self.id,
            "team_id": self.team_id,
            "type": d.get("type", "modal"),
            "blocks": d.get("blocks", []),
            "private_metadata": d.get("private_metadata", ""),
            "callback_id": d.get("callback_id", ""),
            "state": {"values": state_values or {}},
            "hash": self.hash,
            "title": d.get("title"),
            "clear_on_close": bool(d.get("clear_on_close", False)),
            "notify_on_close": bool(d.get("notify_on_close", False)),
            "close": d.get("close"),
            "submit": d.get("submit"),
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id,
            "app_id": self.app_id,
            "external_id": d.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }

    def _home_api(self, state_values: JSON | None) -> JSON:
        """A Home tab as views.publish and app_home_opened show it (no title or buttons)."""
        d = self.definition
        return {
            "id": self.id,
            "team_id": self.team_id,
            "type": "home",
            "close": None,
            "submit": None,
            "blocks": d.get("blocks", []),
            "private_metadata": d.get("private_metadata", ""),
            "callback_id": d.get("callback_id", ""),
            "state": {"values": state_values or {}},
            "hash": self.hash,
            "clear_on_close": False,
            "notify_on_close": False,
            "root_view_id": self.root_view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "external_id": d.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
