"""Replies that do not reach the thread whole, against LocalSlack through slack_sdk.

Without ``files:write`` a long answer was posted whole, split into messages, with no cap:
a 400,000-character answer became about 115 messages at Slack's pace of about one a
second, flooding the thread for two minutes. Now at most ``MAX_SPLIT`` messages go out,
the last ending with a note that says the answer was cut, how much was left out, and
where the whole of it is.

A multi-part reply whose third part Slack refused for good (the channel archived
meanwhile) was recorded as failed, and its trace said "not posted", though its first two
parts were in the thread. Now it is recorded as posted in part, and the trace says so.
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient
from test_delivery_files_fallback import UPLOAD, deliver, long_answer, no_files, texts
from test_delivery_unrecorded import OPS, SESSION, asked, entry, until

from agent_core.delivery import Delivery
from agent_core.history import SlackWrite
from bot.message_metadata import metadata
from bot.reply_parts import MAX_SPLIT, split_message
from bot.slack_surface import SlackSurface
from bot.trace_view import delivery_line
from localslack import LocalSlack
from sessions import Home, coordination_for

__all__ = ["no_files"]  # the fixture, used by name


async def test_without_files_a_huge_answer_is_cut_after_a_few_messages_and_says_so(
    no_files: LocalSlack, home: Home
) -> None:
    slack = no_files
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    answer = long_answer(1300)  # about 400,000 characters
    parts = split_message(answer)
    assert len(answer) > 380_000 and len(parts) > 100
    thread = await deliver(slack, home, SlackSurface(web), answer, "m1")
    posted = texts(slack, thread)
    assert len(posted) == MAX_SPLIT
    assert posted[:-1] == parts[: MAX_SPLIT - 1]  # the start of the answer, in order
    last, note = posted[-1].split("\n\n… ", 1)
    assert last == parts[MAX_SPLIT - 1]
    left = sum(len(p) for p in parts[MAX_SPLIT:])
    assert f"{left:,} more characters" in note
    assert f"`signoff show {SESSION}`" in note
    assert "cut" in note
    assert [c.error for c in slack.calls(UPLOAD)] == ["missing_scope"]
    done = coordination_for(home).outbox.done(thread, f"reply-{SESSION}-m1")
    assert done is not None and done.outcome == "sent" and done.error == ""

    # Asked again (an answer lost on the way), nothing more is posted.
    reply = entry(thread, "m1", "reply", answer)
    again = await SlackSurface(web).post_reply(reply, check_first=True)
    assert again.adopted and texts(slack, thread) == posted


async def test_a_reply_refused_after_two_of_its_parts_is_recorded_as_posted_in_part(
    slack: LocalSlack, home: Home
) -> None:
    """A process posted the first two parts of a four-part reply and died; meanwhile the
    channel was archived. The next one adopts the two and is refused the third for good."""
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    thread = await asked(slack)
    answer = long_answer(40)
    parts = split_message(answer)
    assert len(parts) == 4  # split, not attached
    reply = entry(thread, "m1", "reply", answer)
    for index in (0, 1):  # as the process that died had posted them
        await web.chat_postMessage(
            channel=OPS,
            thread_ts=thread.thread_ts,
            text=parts[index],
            metadata=metadata(reply.id, part=index),
        )
    slack.inject_fault(method="chat.postMessage", channel=OPS, error="is_archived", count=None)
    outbox = coordination_for(home).outbox
    outbox.enqueue(reply)
    delivery = Delivery(home=home, surface=SlackSurface(web), poll=0.05)
    delivery.start()  # it finds the reply pending at start: it looks in Slack first
    try:
        await until(lambda: outbox.pending() == [])
    finally:
        await delivery.stop()

    assert texts(slack, thread) == parts[:2]
    done = outbox.done(thread, reply.id)
    assert done is not None and done.outcome == "adopted"
    assert done.ts == slack.thread(channel=OPS, ts=thread.thread_ts)[1]["ts"]
    assert done.error == "posted in part (2 of 4): is_archived"
    line = delivery_line(SlackWrite(reply.id, "reply", done.outcome, done.at, done.error))
    assert "📤 reply posted in part (2 of 4): is_archived" in line
    assert "not posted" not in line


async def test_a_start_whose_file_is_refused_for_good_is_recorded_as_posted_in_part(
    slack: LocalSlack, home: Home
) -> None:
    """The start of a long answer went out; Slack then refused its file for good. The
    start is in the thread: "not posted" would be untrue."""
    slack.inject_fault(method="files.completeUploadExternal", error="channel_not_found", count=None)
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    thread = await deliver(slack, home, SlackSurface(web), long_answer(), "m1")
    (start,) = texts(slack, thread)
    assert start.endswith("(the full answer is attached)")
    done = coordination_for(home).outbox.done(thread, f"reply-{SESSION}-m1")
    assert done is not None and done.outcome == "sent"
    assert done.error == "posted in part (its start, not the attached file): channel_not_found"
    line = delivery_line(SlackWrite(done.id, "reply", done.outcome, done.at, done.error))
    assert line.startswith("📤 reply posted in part (its start")


async def test_a_start_that_cannot_become_the_first_part_is_recorded_as_posted_in_part(
    no_files: LocalSlack, home: Home
) -> None:
    """Uploads are refused (no files:write), so the start already in the thread is to be
    updated into the answer's first part; Slack refuses that update for good. The start
    is in the thread: the entry was recorded as failed, traced "✖ reply not posted"."""
    slack = no_files
    slack.inject_fault(method="chat.update", error="cant_update_message", count=None)
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    thread = await deliver(slack, home, SlackSurface(web), long_answer(), "m1")
    (start,) = texts(slack, thread)
    assert start.endswith("(the full answer is attached)")
    assert [c.error for c in slack.calls("chat.update")] == ["cant_update_message"]
    done = coordination_for(home).outbox.done(thread, f"reply-{SESSION}-m1")
    assert done is not None and done.outcome == "sent", done
    assert done.error.startswith("posted in part (its start"), done.error
    assert done.error.endswith(": cant_update_message")
    line = delivery_line(SlackWrite(done.id, "reply", done.outcome, done.at, done.error))
    assert line.startswith("📤 reply posted in part (its start") and "not posted" not in line
