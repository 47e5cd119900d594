"""Workspace configuration: who exists, which tokens are valid, and how impatient the fake is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "DEFAULT_SCOPES",
    "EVENT_SCOPES",
    "BotSpec",
    "ChannelSpec",
    "GroupSpec",
    "Timing",
    "UserSpec",
    "WorkspaceConfig",
]

# Scopes a typical chat-ops bot asks for; `chat:write.public` is deliberately absent so that
# posting into a channel the bot has not joined fails with `not_in_channel`, as in production.
DEFAULT_SCOPES: tuple[str, ...] = (
    "app_mentions:read",
    "channels:history",
    "channels:read",
    "chat:write",
    "commands",
    "files:read",
    "files:write",
    "groups:history",
    "groups:read",
    "im:history",
    "im:read",
    "im:write",
    "reactions:read",
    "reactions:write",
    "usergroups:read",
    "users:read",
)


# The scope Slack's app settings require before an app may subscribe to a bot event; events
# missing here need none.
EVENT_SCOPES: dict[str, str] = {
    "app_mention": "app_mentions:read",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
    "message.mpim": "mpim:history",
    "reaction_added": "reactions:read",
    "reaction_removed": "reactions:read",
    "subteam_members_changed": "usergroups:read",
}


@dataclass(frozen=True, kw_only=True)
class UserSpec:
    id: str
    name: str
    real_name: str = ""
    email: str = ""
    is_admin: bool = False
    tz: str = "Europe/London"
    # A person from another organization in a Slack Connect channel: their own team's id
    # (their messages carry it as ``user_team``). None: the workspace's own team.
    team_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class BotSpec:
    user_id: str = "U0SIGNOFF"
    bot_id: str = "B0SIGNOFF"
    app_id: str = "A0SIGNOFF"
    name: str = "signoff"


@dataclass(frozen=True, kw_only=True)
class ChannelSpec:
    id: str
    name: str
    members: tuple[str, ...]
    is_private: bool = False
    # A group DM (``G…``, ``channel_type: "mpim"``): private to its members, read with the
    # mpim: scopes.
    is_mpim: bool = False
    topic: str = ""
    purpose: str = ""
    # A Slack Connect channel another organization created and shared with this one: that
    # organization's team id. Events in it name it as the envelope's ``team_id`` (the
    # channel's source workspace), while ``authorizations[0].team_id`` still names this
    # installation (Slack's SDKs: bolt-js #687, java-slack-sdk #629). None: this workspace's.
    host_team: str | None = None


@dataclass(frozen=True, kw_only=True)
class GroupSpec:
    id: str
    handle: str
    name: str
    members: tuple[str, ...]
    description: str = ""
    # When its members last changed (Unix seconds); None: a day before now, as Slack
    # shows a group made before the workspace was looked at.
    updated: int | None = None


@dataclass(frozen=True, kw_only=True)
class Timing:
    """Every delay the fake applies; tests shrink these to run fast."""

    ack_timeout: float = 3.0
    max_event_retries: int = 3
    # Delay between an ack timeout and the redelivery, per attempt. Slack's Socket Mode schedule
    # is undocumented (HTTP mode uses ~0 s, 1 min, 5 min); immediate keeps tests quick.
    retry_delays: tuple[float, ...] = (0.0, 0.0, 0.0)
    trigger_ttl: float = 3.0
    response_url_ttl: float = 30 * 60.0
    response_url_max_uses: int = 5
    server_ping_interval: float | None = 10.0
    approximate_connection_time: int = 18060


def _default_users() -> tuple[UserSpec, ...]:
    return (
        UserSpec(id="U0ALICE", name="alice", real_name="Alice Archer", is_admin=True),
        UserSpec(id="U0BOB", name="bob", real_name="Bob Baker"),
        UserSpec(id="U0CAROL", name="carol", real_name="Carol Cooper"),
        UserSpec(id="U0DAVE", name="dave", real_name="Dave Dyer"),
    )


def _default_channels() -> tuple[ChannelSpec, ...]:
    bot = BotSpec().user_id
    humans = ("U0ALICE", "U0BOB", "U0CAROL", "U0DAVE")
    return (
        ChannelSpec(id="C0GENERAL", name="general", members=(*humans, bot)),
        ChannelSpec(id="C0OPS", name="ops", members=("U0ALICE", "U0BOB", "U0CAROL", bot)),
        ChannelSpec(id="C0RANDOM", name="random", members=humans),
        ChannelSpec(
            id="C0PRIVATE", name="incident-private", members=("U0ALICE", bot), is_private=True
        ),
    )


def _default_groups() -> tuple[GroupSpec, ...]:
    return (
        GroupSpec(
            id="S0APPROVERS", handle="approvers", name="Approvers", members=("U0ALICE", "U0BOB")
        ),
        GroupSpec(id="S0ONCALL", handle="oncall", name="On-call", members=("U0CAROL",)),
    )


@dataclass(frozen=True, kw_only=True)
class WorkspaceConfig:
    """Everything a LocalSlack instance starts from; use dataclasses.replace() to vary it."""

    team_id: str = "T0LOCAL"
    team_name: str = "LocalSlack"
    team_domain: str = "localslack"
    bot_token: str = "xoxb-local-0000-bot-token"
    app_token: str = "xapp-1-A0SIGNOFF-0000-local-app-token"
    # The legacy verification token Slack still stamps on every payload.
    verification_token: str = "localverificationtoken"
    bot: BotSpec = field(default_factory=BotSpec)
    users: tuple[UserSpec, ...] = field(default_factory=_default_users)
    channels: tuple[ChannelSpec, ...] = field(default_factory=_default_channels)
    groups: tuple[GroupSpec, ...] = field(default_factory=_default_groups)
    subscribed_events: tuple[str, ...] = ("app_mention", "message.channels")
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    # App Home settings, as in the manifest's features.app_home: the Home tab is off unless
    # enabled; the Messages tab lets people write to the app ("on"), only read ("read_only"),
    # or is hidden ("off": the app cannot post into its DMs either).
    home_tab_enabled: bool = False
    messages_tab: Literal["on", "read_only", "off"] = "on"
    # Message metadata event types the app declared in its manifest: readers get their
    # event_payload without asking for include_all_metadata.
    declared_metadata_events: tuple[str, ...] = ()
    timing: Timing = field(default_factory=Timing)
    max_sockets: int = 10
    rate_limits: bool = False
    delivery: Literal["random", "round_robin"] = "random"
    seed: int | None = None

    def __post_init__(self) -> None:
        # Slack's app settings refuse a bot event whose scope the app lacks; so does this.
        for event in self.subscribed_events:
            needed = EVENT_SCOPES.get(event)
            if needed is not None and needed not in self.scopes:
                raise ValueError(f"subscribing to {event} needs the {needed} scope")
