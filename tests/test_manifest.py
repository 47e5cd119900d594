"""manifest.yml: valid by the manifest schema's rules, and exactly what the code uses."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.commands import COMMAND
from bot.dev import DEV_EVENTS, dev_workspace

ROOT = Path(__file__).resolve().parents[1]
MANIFEST: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text())


def _code() -> str:
    return "\n".join(p.read_text() for p in (ROOT / "bot").glob("*.py"))


def test_required_fields_and_limits_of_the_v1_schema() -> None:
    assert MANIFEST["_metadata"]["major_version"] == 1
    info = MANIFEST["display_information"]
    assert 0 < len(info["name"]) <= 35
    assert len(info["description"]) <= 140
    assert re.fullmatch(r"#[0-9a-fA-F]{3,6}", info["background_color"])
    bot = MANIFEST["features"]["bot_user"]
    assert 0 < len(bot["display_name"]) <= 80
    for command in MANIFEST["features"]["slash_commands"]:
        assert command["command"].startswith("/") and len(command["command"]) <= 32
        assert 0 < len(command["description"]) <= 2000
        assert "url" not in command  # Socket Mode needs no request URL
    settings = MANIFEST["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert "request_url" not in settings["interactivity"]
    assert "request_url" not in settings["event_subscriptions"]
    assert len(MANIFEST["oauth_config"]["scopes"]["bot"]) <= 255


def test_events_and_command_match_the_handlers() -> None:
    code = _code()
    events = MANIFEST["settings"]["event_subscriptions"]["bot_events"]
    assert set(events) == {
        "app_mention",
        "app_home_opened",
        "subteam_members_changed",
        "message.channels",
        "message.groups",
        "message.im",
        "message.mpim",
        "tokens_revoked",
        "app_uninstalled",
    }
    assert '"app_mention"' in code and '"message"' in code
    assert '"app_home_opened"' in code and '"im"' in code
    assert '"subteam_members_changed"' in code  # approver groups' members: Homes and cache
    assert '"tokens_revoked"' in code and '"app_uninstalled"' in code  # said, not dropped
    # signoff dev runs the app as the manifest declares it.
    assert set(DEV_EVENTS) == set(events)
    home = MANIFEST["features"]["app_home"]
    assert home["home_tab_enabled"] is True
    assert dev_workspace().home_tab_enabled is True
    assert home["messages_tab_enabled"] is True and home["messages_tab_read_only_enabled"] is False
    assert dev_workspace().messages_tab == "on"
    commands = [c["command"] for c in MANIFEST["features"]["slash_commands"]]
    assert commands == ["/signoff"]
    assert COMMAND == "/signoff" and "app.command(COMMAND)" in code


def test_every_scope_is_used_and_every_used_method_has_its_scope() -> None:
    code = _code()
    needs = {
        "chat:write": ["chat_postMessage", "chat_update", "chat_postEphemeral"],
        "reactions:write": ["reactions_add"],
        "files:write": ["files_upload_v2"],
        "usergroups:read": ["usergroups_users_list"],
        "users:read": ["users_info"],
        "commands": ["app.command("],
        "app_mentions:read": ['"app_mention"'],
        "channels:history": ['"message"', "conversations_replies"],
        "groups:history": ['"message"', "conversations_history"],
        "im:history": ['"im"'],
        "mpim:history": ['"message"', "conversations_replies"],  # threads in group DMs
        "channels:read": ["conversations_members", "conversations_info"],
        "groups:read": ["conversations_members", "conversations_info"],
        "im:read": ["conversations_members", "conversations_info"],
        "mpim:read": ["conversations_members", "conversations_info"],  # who is in a group DM
    }
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert scopes == set(needs)
    for scope, uses in needs.items():
        assert any(use in code for use in uses), f"{scope} is granted but unused"
