"""Payload shapes from Slack's reference that the other tests do not send, through the real
Socket Mode path and Bolt app.

Message subtypes (``message_changed`` and ``message_deleted`` of a message read already,
``message_replied``, ``me_message``, ``bot_message``), an ``app_mention`` with ``edited``, an Enterprise Grid
mention from a shared channel (``enterprise_id``, ``is_ext_shared_channel``, an org-wide
``authorizations`` entry), ``thread_broadcast`` with its ``root``, a ``file_share`` with no
text, ``app_rate_limited``, and clicks whose container claims a place the card is not: each
ends in the one outcome it should, and a click only decides, or changes what signoff
listens to, where its card is.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest
from conftest import FAST
from signoff_e2e_kit import (
    BOT_USER,
    OPS,
    approval_id_of,
    as_in_manifest,
    decision,
    home_texts,
    mention,
    restarts,
    thread_path,
    until,
    wait_card,
)

from bot.app import SignoffBot
from bot.cards import APPROVE, DENY
from bot.config import Settings
from localslack import Delivery, LocalSlack, WorkspaceConfig

if TYPE_CHECKING:
    from conftest import BotFactory

T = "T0LOCAL"
PRIVATE = "C0PRIVATE"  # Alice and signoff only


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    # As manifest.yml declares the app: direct messages and the Home tab included.
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=7, timing=FAST))) as server:
        yield server


def _user(user: str) -> dict[str, str]:
    return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": T}


def _click(user: str, value: str, **fields: Any) -> dict[str, Any]:
    """A ``block_actions`` payload as docs.slack.dev/reference/interaction-payloads shows."""
    return {
        "type": "block_actions",
        "user": _user(user),
        "api_app_id": "A0SIGNOFF",
        "token": "legacy",
        "team": {"id": T, "domain": "localslack"},
        "enterprise": None,
        "is_enterprise_install": False,
        "trigger_id": "1111.2222.forged",
        "actions": [{"action_id": APPROVE, "block_id": "b1", "type": "button", "value": value}],
        **fields,
    }


async def _acked_deliveries(slack: LocalSlack, ts: str) -> list[Delivery]:
    """Every envelope of the message ``ts`` (its ``message`` event, maybe a mention too),
    once each was acked: acked means stored, or judged not to be signoff's."""

    def of_message() -> list[Delivery]:
        found = []
        for d in slack.deliveries(type="events_api"):
            event = d.payload.get("event") if isinstance(d.payload, dict) else None
            if isinstance(event, dict) and event.get("ts") == ts:
                found.append(d)
        return found

    sent = await until(of_message, what=f"the events of {ts}")
    return [await slack.wait_for_ack(d.envelope_id) for d in sent]


async def test_a_refused_click_on_a_routed_card_does_not_open_its_thread_to_plain_messages(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    """A request asked in a DM has its card as a new message in the approvals channel;
    signoff takes no part in that card's thread, so replies there are people talking.
    Alice's refused click is answered with an ephemeral in that thread, which nobody else
    sees: signoff still takes no part there, and Carol's reply must stay hers."""
    bot: SignoffBot = await start_bot(approvals_channel=OPS)
    await slack.wait_for_sockets(1, timeout=5)
    await slack.post_message(channel="D0ALICE", user="U0ALICE", text="restart api")
    [card] = await until(
        lambda: [m for m in slack.messages(channel=OPS) if "Approval needed" in str(m)],
        what="the card in the approvals channel",
    )
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0ALICE", action_id=APPROVE)
    await slack.wait_for_ephemeral(user="U0ALICE", text_contains="You may not decide")
    await bot.engine.idle()  # the ephemeral went out through the outbox

    reply = await slack.post_message(
        channel=OPS, user="U0CAROL", text="status of db", thread_ts=card["ts"]
    )
    await _acked_deliveries(slack, reply)
    # Acked means judged: had it been taken, it would be in the thread's inbox now.
    assert not (thread_path(settings.home, card["ts"]) / "inbox").exists()


async def test_a_forged_click_naming_any_thread_does_not_make_signoff_listen_there(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    lunch = await slack.post_message(channel="C0GENERAL", user="U0CAROL", text="lunch?")
    forged = _click(
        "U0BOB",
        "appr_0000000000000000",
        container={"type": "message", "message_ts": lunch, "channel_id": "C0GENERAL"},
        channel={"id": "C0GENERAL", "name": "general"},
    )
    await slack.wait_for_ack(
        (await slack.send_envelope(type="interactive", payload=forged)).envelope_id
    )
    await slack.wait_for_ephemeral(user="U0BOB", text_contains="does not name a request")
    await bot.engine.idle()

    reply = await slack.post_message(
        channel="C0GENERAL", user="U0CAROL", text="status of db", thread_ts=lunch
    )
    await _acked_deliveries(slack, reply)
    assert not (thread_path(settings.home, lunch, channel="C0GENERAL") / "inbox").exists()


async def test_a_click_claiming_a_home_tab_decides_only_what_that_home_would_show(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """Dave is not in the private channel: his Home never lists its request, and he never
    saw its card. A block_actions payload that says it came from his Home tab (a view of
    type ``home``, the container a view) must not decide it."""
    asked = await slack.post_message(
        channel=PRIVATE, user="U0ALICE", text=f"<@{BOT_USER}> restart api"
    )
    card = await slack.wait_for_message(
        channel=PRIVATE, thread_ts=asked, from_bot=True, text_contains="Approval needed"
    )
    approval = approval_id_of(card)
    await slack.open_app_home(user="U0DAVE")
    home = await slack.wait_for_home_view(
        lambda v: "Waiting for you (0)" in home_texts(v), user="U0DAVE"
    )
    view = {
        k: home[k]
        for k in ("id", "type", "callback_id", "hash", "private_metadata", "state", "team_id")
        if k in home
    }
    forged = _click(
        "U0DAVE", approval, container={"type": "view", "view_id": home["id"]}, view=view
    )
    await slack.wait_for_ack(
        (await slack.send_envelope(type="interactive", payload=forged)).envelope_id
    )

    def told_or_decided() -> bool:
        shown = home_texts(slack.home_view(user="U0DAVE"))
        return decision(settings.home, approval) is not None or "ℹ️" in shown

    await until(told_or_decided, what="Dave told on his Home, or the request decided")
    await bot.engine.idle()
    assert decision(settings.home, approval) is None
    assert restarts(settings.home) == 0


_GRID_AUTH = [
    {"enterprise_id": "E0GRID", "team_id": None, "user_id": BOT_USER, "is_bot": True,
     "is_enterprise_install": True}
]  # fmt: skip


async def test_message_shapes_from_slacks_reference_each_end_in_their_one_outcome(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="signoff.socket")
    thread = await mention(slack, "restart web")
    await wait_card(slack, thread)
    await bot.engine.idle()

    def event(n: int, body: dict[str, Any], **top: Any) -> dict[str, Any]:
        return {"token": "legacy", "team_id": T, "api_app_id": "A0SIGNOFF", "type": "event_callback",
                "event_id": f"Ev0SHAPE{n:03d}", "event_time": 1_796_000_000, "event": body,
                "authorizations": [{"team_id": T, "user_id": BOT_USER, "is_bot": True,
                                    "is_enterprise_install": False}],
                "is_ext_shared_channel": False, **top}  # fmt: skip

    said = {"type": "message", "user": "U0ALICE", "channel": OPS, "channel_type": "channel"}
    ts = "1900000000.0001"
    shapes: list[tuple[dict[str, Any], str]] = [
        (event(1, {**said, "subtype": "message_changed", "hidden": True, "ts": f"{ts}01",
                   "message": {"type": "message", "user": "U0ALICE", "text": "restart db",
                               "ts": thread, "edited": {"user": "U0ALICE", "ts": f"{ts}01"}},
                   "previous_message": {"type": "message", "user": "U0ALICE", "ts": thread}}),
         "ignored: an edit or deletion of a message signoff has read already"),
        (event(2, {**said, "subtype": "message_deleted", "hidden": True, "ts": f"{ts}02",
                   "deleted_ts": thread}),
         "ignored: an edit or deletion of a message signoff has read already"),
        (event(3, {**said, "subtype": "message_replied", "hidden": True, "ts": f"{ts}03",
                   "message": {"type": "message", "ts": thread, "reply_count": 2}}),
         "ignored: message subtype 'message_replied'"),
        (event(4, {**said, "subtype": "me_message", "text": "restart db", "ts": f"{ts}04",
                   "thread_ts": thread}), "ignored: message subtype 'me_message'"),
        (event(5, {**said, "subtype": "bot_message", "text": "restart db", "ts": f"{ts}05",
                   "thread_ts": thread, "username": "hook"}),
         "ignored: message subtype 'bot_message'"),
        # An edit of the mention: Slack sends it again with ``edited``; the ts is taken.
        (event(6, {**said, "type": "app_mention", "text": f"<@{BOT_USER}> restart db",
                   "ts": thread, "edited": {"user": "U0ALICE", "ts": f"{ts}06"}}),
         "duplicate: message already stored"),
        (event(7, {**said, "subtype": "thread_broadcast", "text": "status of web",
                   "ts": f"{ts}07", "thread_ts": thread,
                   "root": {"ts": thread, "user": "U0ALICE", "text": "restart web"}}), "stored"),
        (event(8, {**said, "subtype": "file_share", "text": "", "ts": f"{ts}08",
                   "thread_ts": thread, "files": [{"id": "F0LOG", "name": "log.txt"}]}), "stored"),
        (event(9, {"type": "app_mention", "user": "W0GRIDUSER", "channel": OPS,
                   "text": f"<@{BOT_USER}> status of api", "ts": f"{ts}09", "team": "T0OTHER",
                   "user_team": "T0OTHER", "source_team": "T0OTHER"},
               enterprise_id="E0GRID", context_team_id=T, context_enterprise_id="E0GRID",
               is_ext_shared_channel=True, authorizations=_GRID_AUTH), "stored"),
        ({"token": "legacy", "type": "app_rate_limited", "team_id": T,
          "minute_rate_limited": 1_796_000_000, "api_app_id": "A0SIGNOFF"},
         "ignored: not an event_callback: 'app_rate_limited': Slack drops the app's events"
         " for this minute (over 30,000 an hour)"),
    ]  # fmt: skip
    for payload, outcome in shapes:
        sent = await slack.send_envelope(type="events_api", payload=payload)
        done = await slack.wait_for_ack(sent.envelope_id)
        assert not done.timed_out
        ref = str(payload.get("event_id") or payload["type"])
        lines = [
            r.getMessage()
            for r in caplog.records
            if r.name == "signoff.socket" and ref in r.getMessage()
        ]
        assert len(lines) == 1 and lines[0].endswith(outcome), (outcome, lines)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    # The mention from the shared channel is kept like any other, under the team the
    # envelope names (the installation's).
    assert (thread_path(settings.home, f"{ts}09") / "inbox").exists()


@pytest.mark.parametrize("level", [logging.INFO, logging.DEBUG])
async def test_a_notice_with_no_thread_to_go_to_is_logged_without_its_text_at_info(
    slack: LocalSlack,
    bot: SignoffBot,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    level: int,
) -> None:
    """A click naming no workspace (no ``team``, no ``user.team_id``) has no thread to be
    answered in: the notice is logged instead. It is text for a person, which may quote
    what people wrote: only at DEBUG, like every message text."""
    caplog.set_level(level, logger="signoff")
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    forged = _click(
        "U0ALICE",  # the asker: she may not decide her own request
        approval_id_of(card),
        team=None,
        container={"type": "message", "message_ts": card["ts"], "channel_id": OPS},
    )
    del forged["user"]["team_id"]
    forged["actions"][0]["action_id"] = DENY  # Deny answers where the click came from
    await slack.wait_for_ack(
        (await slack.send_envelope(type="interactive", payload=forged)).envelope_id
    )

    def notices() -> list[str]:
        return [
            f"{r.getMessage()} {getattr(r, 'signoff_fields', '')}"
            for r in caplog.records
            if r.name == "signoff.actions" and "U0ALICE" in str(r.__dict__)
        ]

    [notice] = await until(notices, what="the notice in the log")
    assert ("You may not decide" in notice) is (level == logging.DEBUG), notice
    assert decision(settings.home, approval_id_of(card)) is None
