"""``/signoff trace <id>`` never tells whether a session exists in a channel the person
cannot read: ids are derived from a thread's channel and ts (``first_session_id``), so an
answer that differs for "exists elsewhere" would confirm a private conversation."""

from __future__ import annotations

from signoff_e2e_kit import OPS, ephemeral_texts, lineage, mention, until

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack


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
