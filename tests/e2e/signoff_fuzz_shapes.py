"""Hypothesis strategies for Socket Mode envelopes, from the shapes in Slack's reference.

Each kind starts from a documented payload and is then mutated: a field dropped, or set
to another JSON value, to text that is not valid Unicode (a lone surrogate), or to text
past Slack's limits. Shapes (docs.slack.dev/reference/...): ``events/app_mention`` and
``events/message`` inside the ``event_callback`` wrapper (with the subtypes of
``message``; a person's edits and deletions as Slack nests them), ``interaction-payloads/block_actions-payload``, ``view_submission``,
``view_closed``, ``shortcut``/``message_action``, ``block_suggestion``, slash commands;
and junk (any JSON value, unknown envelope types).

Ids that would make the bot act (post into a thread) name things that exist in the
LocalSlack workspace, so what is valid is answered and nothing else is contacted; the
rest are Slack-shaped ids that exist nowhere, or anything at all.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from bot.cards import APPROVE, DENY
from bot.reason_modal import DENY_MODAL

__all__ = ["Envelope", "Workspace", "envelopes"]


@dataclass(frozen=True)
class Envelope:
    type: str
    payload: Any


@dataclass(frozen=True)
class Workspace:
    """What exists: the team, channels and people, the bot, and threads it answered in."""

    url: str
    team: str
    channels: tuple[str, ...]
    users: tuple[str, ...]
    bot_user: str
    bot_id: str
    threads: tuple[str, ...]


any_char = st.characters(exclude_categories=())  # surrogates included
# Few draws per value keep 5,000 envelopes quick to generate: nasty strings come whole.
nasty_text = st.sampled_from(
    ["", " ", "../..", "1.2.3", "ts", "C0OPS\n", "\ud800", "a\udfffb", "U0ALICE\x00",
     "<!channel> &amp; <b>", "Ev/../1", "\u202e", "💥" * 3, "sess_0123456789ab", "/signoff"]
)  # fmt: skip
any_text = nasty_text | st.text(any_char, max_size=6)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | any_text,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(any_text, inner, max_size=2),
    max_leaves=4,
)
fake_ids = st.builds(
    lambda kind, n: f"{kind}0{n:X}", st.sampled_from("CUTWB"), st.integers(0, 16**8)
)
event_ids = st.integers(0, 10**14 - 1).map(lambda n: f"Ev{n:014d}")
view_ids = st.integers(0, 16**8).map(lambda n: f"V{n:08X}")
approval_ids = st.integers(0, 16**16 - 1).map(lambda n: f"appr_{n:016x}")
valid_ts = st.integers(1_600_000_000_000_000, 1_999_999_999_999_999).map(
    lambda us: f"{us // 1_000_000}.{us % 1_000_000:06d}"
)
odd_values = st.one_of(json_values, any_text, st.just("x" * 40_001))


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> Any:
    """``base`` with a few fields (at the top or one level down) dropped or replaced."""
    value = copy.deepcopy(base)
    for _ in range(draw(st.integers(0, 3))):
        nested = [k for k, v in value.items() if isinstance(v, dict)]
        target = value
        if nested and bool(draw(st.booleans())):  # bool(): mypy would infer draw's type from nested
            target = value[draw(st.sampled_from(sorted(nested)))]
        if not target:
            continue
        key = draw(st.sampled_from(sorted(target)) | any_text)
        if draw(st.integers(0, 3)) == 0:
            target.pop(key, None)
        else:
            target[key] = draw(odd_values)
    return value


def _event_callback(ws: Workspace, event: dict[str, Any], event_id: str) -> dict[str, Any]:
    # The wrapper of docs.slack.dev/reference/events/app_mention.
    return {
        "token": "localverificationtoken",
        "team_id": ws.team,
        "api_app_id": "A0SIGNOFF",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1_700_000_000,
        "authorizations": [
            {"team_id": ws.team, "user_id": ws.bot_user, "is_bot": True,
             "is_enterprise_install": False}
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-eyJldCI6ImFwcF9tZW50aW9uIn0",
    }  # fmt: skip


@st.composite
def person_messages(draw: st.DrawFn, ws: Workspace) -> Envelope:
    """``app_mention`` and ``message`` events (with message subtypes), valid or mutated."""
    kind = draw(st.sampled_from(["app_mention", "message"]))
    thread = draw(st.sampled_from(ws.threads))
    words = draw(st.sampled_from(["status of api", "hello", "status of web &amp; db", ""]))
    event: dict[str, Any] = {
        "type": kind,
        "user": draw(st.sampled_from(ws.users)),
        "text": f"<@{ws.bot_user}> {words}" if kind == "app_mention" else words,
        # A new message in a thread the bot answered in (or the parent itself again).
        "ts": draw(st.sampled_from([thread, *(f"{thread[:-3]}{n:03d}" for n in (7, 8, 9))])),
        "thread_ts": thread,
        "channel": ws.channels[0],
        "event_ts": "1515449522000016",
        "channel_type": "channel",
        "client_msg_id": "9a1b2c3d-0000-4000-8000-000000000000",
    }
    if event["ts"] == thread:
        event.pop("thread_ts")
    if draw(st.integers(0, 4)) == 0:
        subtype = draw(st.sampled_from(["thread_broadcast", "file_share", "bot_message",
                                        "message_changed", "message_deleted", "channel_join",
                                        "me_message", "message_replied"]))  # fmt: skip
        event["subtype"] = subtype
        if subtype == "bot_message":
            event["bot_id"] = draw(st.sampled_from([ws.bot_id, "B0OTHER"]))
    body = _event_callback(ws, event, draw(event_ids))
    # Most are mutated: the valid ones make the bot work, the rest test the boundary.
    if draw(st.integers(0, 9)) < 8:
        body = draw(mutated(body))
    return Envelope("events_api", body)


@st.composite
def person_edits(draw: st.DrawFn, ws: Workspace) -> Envelope:
    """``message_changed`` and ``message_deleted`` (events/message/message_changed, …):
    a person's edit or deletion of a message in a thread the bot answered in (its first
    message or a reply), a tombstone, a parent whose replies changed (no ``edited``), the
    bot's own card updated; valid or mutated."""
    thread = draw(st.sampled_from(ws.threads))
    ts = draw(st.sampled_from([thread, *(f"{thread[:-3]}{n:03d}" for n in (7, 8, 9))]))
    user = draw(st.sampled_from([*ws.users, ws.bot_user]))
    words = draw(st.sampled_from(["status of api", f"<@{ws.bot_user}> status of web", "", "x"]))
    shown: dict[str, Any] = {"type": "message", "user": user, "text": words, "ts": ts}
    if ts != thread or draw(st.booleans()):
        shown["thread_ts"] = thread
    common = {"type": "message", "hidden": True, "channel": ws.channels[0],
              "ts": "1515449522.000016", "event_ts": "1515449522.000016",
              "channel_type": draw(st.sampled_from(["channel", "im", "group"]))}  # fmt: skip
    kind = draw(st.sampled_from(["changed", "edited", "tombstone", "bot", "deleted"]))
    if kind == "deleted":
        event = {**common, "subtype": "message_deleted", "deleted_ts": ts}
        if draw(st.booleans()):
            event["previous_message"] = shown
    else:
        if kind == "edited":
            shown["edited"] = {"user": user, "ts": "1515449522.000016"}
        elif kind == "tombstone":
            shown.update(subtype="tombstone", user="USLACKBOT", text="This message was deleted.")
        elif kind == "bot":
            shown.update(bot_id=ws.bot_id, user=ws.bot_user)
        event = {**common, "subtype": "message_changed", "message": shown}
    body = _event_callback(ws, event, draw(event_ids))
    if draw(st.integers(0, 9)) < 6:
        body = draw(mutated(body))
    return Envelope("events_api", body)


@st.composite
def other_events(draw: st.DrawFn, ws: Workspace) -> Envelope:
    kind = draw(st.sampled_from(["reaction_added", "member_joined_channel", "app_home_opened",
                                 "channel_rename", "team_join", "message",
                                 "subteam_members_changed"]))  # fmt: skip
    event: dict[str, Any] = {
        "type": kind,
        "user": draw(st.sampled_from(ws.users) | fake_ids),
        "channel": draw(st.sampled_from(ws.channels) | fake_ids),
        "ts": draw(valid_ts),
        "event_ts": draw(valid_ts),
        "text": draw(any_text),
    }
    if kind == "subteam_members_changed":  # an approver group gains and loses people
        people = st.lists(st.sampled_from(ws.users) | fake_ids, max_size=3)
        added, removed = draw(people), draw(people)
        event.update(
            subteam_id=draw(st.sampled_from(["S0APPROVERS", "S0ONCALL"]) | fake_ids),
            added_users=added, added_users_count=str(len(added)),
            removed_users=removed, removed_users_count=str(len(removed)),
            date_previous_update=1446670362, date_update=1492906952,
        )  # fmt: skip
    if kind == "message":  # outside any thread signoff takes part in, or in a DM
        event["channel_type"] = draw(st.sampled_from(["channel", "im", "group", "mpim"]))
    body = _event_callback(ws, event, draw(event_ids))
    return Envelope("events_api", draw(mutated(body)))


def _user(ws: Workspace, user: str) -> dict[str, Any]:
    return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": ws.team}


@st.composite
def interactions(draw: st.DrawFn, ws: Workspace) -> Envelope:
    user = _user(ws, draw(st.sampled_from(ws.users) | fake_ids))
    team = {"id": ws.team, "domain": "localslack"}
    channel = draw(st.sampled_from(ws.channels))
    kind = draw(st.sampled_from(["block_actions", "view_submission", "view_closed", "shortcut",
                                 "message_action", "block_suggestion", "dialog_submission",
                                 "interactive_message"]))  # fmt: skip
    value = draw(approval_ids | any_text | st.just("appr_"))
    view = {
        "id": draw(view_ids),
        "type": "modal",
        "callback_id": draw(st.sampled_from([DENY_MODAL, "old_modal"])),
        "private_metadata": f"{value}|{channel}",
        "state": {"values": {"reason": {"reason": {"type": "plain_text_input",
                                                   "value": draw(any_text)}}}},
        "hash": "1700000000.abcdEFGH",
        "team_id": ws.team,
    }  # fmt: skip
    body: dict[str, Any] = {"type": kind, "user": user, "team": team, "api_app_id": "A0SIGNOFF",
                            "token": "localverificationtoken", "trigger_id": "1.2.abcdef",
                            "is_enterprise_install": False, "enterprise": None}  # fmt: skip
    if kind == "block_actions":
        thread = draw(st.sampled_from(ws.threads))
        body |= {
            "container": {"type": "message", "message_ts": thread, "channel_id": channel,
                          "is_ephemeral": False, "thread_ts": thread},
            "channel": {"id": channel, "name": "ops"},
            "message": {"type": "message", "ts": thread, "bot_id": ws.bot_id, "text": "card"},
            "state": {"values": {}},
            "response_url": f"{ws.url}/response/fuzz-{draw(st.integers(0, 9))}",
            "actions": [{"action_id": draw(st.sampled_from([APPROVE, DENY, "retired_button"])),
                         "block_id": "actions-1", "type": "button", "value": value,
                         "action_ts": "1700000000.000200"}],
        }  # fmt: skip
    elif kind in ("view_submission", "view_closed"):
        body["view"] = view
    elif kind == "block_suggestion":
        body |= {"action_id": "pick_service", "block_id": "b1", "value": draw(any_text)}
    else:
        body |= {"callback_id": draw(st.sampled_from(["launch", "quote", "legacy"]))}
    if draw(st.integers(0, 9)) < 6:
        body = draw(mutated(body))
    return Envelope("interactive", body)


@st.composite
def slash_commands(draw: st.DrawFn, ws: Workspace) -> Envelope:
    text = draw(
        st.sampled_from(["", "help", "sessions", "pending", "trace", "trace here",
                         "trace sess_0123456789ab", "trace ../x", "nonsense words"])
        | any_text
    )  # fmt: skip
    user = draw(st.sampled_from(ws.users) | fake_ids)
    body = {
        "token": "localverificationtoken",
        "team_id": ws.team,
        "team_domain": "localslack",
        "channel_id": draw(st.sampled_from(ws.channels)),
        "channel_name": "ops",
        "user_id": user,
        "user_name": user.lower(),
        "command": draw(st.sampled_from(["/signoff", "/signoff", "/deploy"])),
        "text": text,
        "api_app_id": "A0SIGNOFF",
        "is_enterprise_install": "false",
        "response_url": f"{ws.url}/response/fuzz-{draw(st.integers(0, 9))}",
        "trigger_id": "1.2.abcdef",
    }
    if draw(st.integers(0, 9)) < 6:
        body = draw(mutated(body))
    return Envelope("slash_commands", body)


@st.composite
def junk(draw: st.DrawFn, ws: Workspace) -> Envelope:
    kind = draw(
        st.sampled_from(["events_api", "interactive", "slash_commands", "hello"]) | any_text
    )
    return Envelope(kind, draw(json_values))


def envelopes(ws: Workspace) -> st.SearchStrategy[Envelope]:
    return st.one_of(
        person_messages(ws),
        person_messages(ws),
        person_edits(ws),
        other_events(ws),
        interactions(ws),
        slash_commands(ws),
        junk(ws),
    )
