"""``/signoff trace <id>`` never tells whether a session exists in a channel the person
cannot read: ids are derived from a thread's channel and ts (``first_session_id``), so an
answer that differs for "exists elsewhere" would confirm a private conversation. Nor
does a direct message with signoff: it is a conversation of its own, which reads no other."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from conftest import FAST
from signoff_e2e_kit import OPS, as_in_manifest, ephemeral_texts, lineage, mention, until

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack, WorkspaceConfig


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    # As manifest.yml declares the app: private channels and direct messages included.
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=7, timing=FAST))) as server:
        yield server


async def answer_to(slack: LocalSlack, user: str, channel: str, text: str) -> str:
    before = len(ephemeral_texts(slack, user))
    sent = await slack.slash_command(command="/signoff", user=user, channel=channel, text=text)
    (told,) = await until(lambda: ephemeral_texts(slack, user)[before:], what="the answer")
    assert not (await slack.wait_for_ack(sent.envelope_id)).user_saw_error
    return str(told)


async def test_a_private_channels_session_is_answered_as_no_session_to_outsiders(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    secret = await slack.post_message(
        channel="C0PRIVATE", user="U0ALICE", text="<@U0SIGNOFF> status of db"
    )
    await slack.wait_for_message(
        channel="C0PRIVATE", thread_ts=secret, from_bot=True, text_contains="service=db,"
    )
    thread = await mention(slack, "status of api")
    await slack.wait_for_message(
        channel=OPS, thread_ts=thread, from_bot=True, text_contains="service=api,"
    )
    await bot.engine.idle()
    (hidden,) = lineage(settings.home, secret, channel="C0PRIVATE")
    (public,) = lineage(settings.home, thread)

    # Bob is not in the private channel: its session is as unknown to him as a made-up id.
    made_up = await answer_to(slack, "U0BOB", OPS, "trace sess_0123456789ab")
    assert made_up == "No session sess_0123456789ab."
    assert await answer_to(slack, "U0BOB", OPS, f"trace {hidden}") == f"No session {hidden}."
    # Alice is in it: she is told where to run it.
    told = await answer_to(slack, "U0ALICE", OPS, f"trace {hidden}")
    assert told == f"`{hidden}` belongs to <#C0PRIVATE>; run the command there."
    # A public channel's session: anyone may read it, so anyone is told where it is.
    told = await answer_to(slack, "U0DAVE", "C0GENERAL", f"trace {public}")
    assert told == f"`{public}` belongs to <#{OPS}>; run the command there."


async def test_a_direct_message_with_signoff_shows_no_other_conversation(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """``/signoff`` typed in a direct message with signoff answers about that conversation
    only: Alice's private channel and her own direct message are as unknown to Bob there as
    anywhere, and his DM lists nothing of theirs; nothing is uploaded anywhere."""
    secret = await slack.post_message(
        channel="C0PRIVATE", user="U0ALICE", text="<@U0SIGNOFF> status of db"
    )
    await slack.wait_for_message(
        channel="C0PRIVATE", thread_ts=secret, from_bot=True, text_contains="service=db,"
    )
    asked = await slack.post_message(channel="D0ALICE", user="U0ALICE", text="status of web")
    await slack.wait_for_message(
        channel="D0ALICE", thread_ts=asked, from_bot=True, text_contains="service=web,"
    )
    await bot.engine.idle()
    (hidden,) = lineage(settings.home, secret, channel="C0PRIVATE")
    (direct,) = lineage(settings.home, asked, channel="D0ALICE")

    for session in (hidden, direct):
        told = await answer_to(slack, "U0BOB", "D0BOB", f"trace {session}")
        assert told == f"No session {session}."
        # Nor from a channel he shares with her.
        assert await answer_to(slack, "U0BOB", OPS, f"trace {session}") == f"No session {session}."
    assert await answer_to(slack, "U0BOB", "D0BOB", "trace") == "No sessions in this channel yet."
    assert (
        await answer_to(slack, "U0BOB", "D0BOB", "sessions") == "No sessions in this channel yet."
    )
    # Alice's own DM lists hers, and only hers.
    mine = await answer_to(slack, "U0ALICE", "D0ALICE", "sessions")
    assert direct in mine and hidden not in mine
    assert slack.files() == []


async def test_a_direct_messages_session_is_named_to_its_own_person_elsewhere(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """docs/slack.md: another channel's session is named ("belongs to …; run the command
    there") to someone who can read that channel. Alice can read her own direct message
    with signoff, under exactly manifest.yml's scopes; Bob still cannot."""
    asked = await slack.post_message(channel="D0ALICE", user="U0ALICE", text="status of web")
    await slack.wait_for_message(
        channel="D0ALICE", thread_ts=asked, from_bot=True, text_contains="service=web,"
    )
    await bot.engine.idle()
    (direct,) = lineage(settings.home, asked, channel="D0ALICE")

    told = await answer_to(slack, "U0ALICE", OPS, f"trace {direct}")
    assert told == f"`{direct}` belongs to <#D0ALICE>; run the command there."
    assert await answer_to(slack, "U0BOB", OPS, f"trace {direct}") == f"No session {direct}."
