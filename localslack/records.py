"""Mutable workspace records that are not plain message dicts."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from typing import Any

__all__ = ["JSON", "Channel", "Ephemeral", "StoredFile", "Trigger", "ViewRecord"]

JSON = dict[str, Any]


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool
    members: set[str]
    created: int
    topic: str = ""
    purpose: str = ""
    creator: str = ""

    def info(self, *, viewer: str) -> JSON:
        """conversations.info's `channel` object as seen by `viewer`."""
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "created": self.created,
            "creator": self.creator,
            "is_archived": False,
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
