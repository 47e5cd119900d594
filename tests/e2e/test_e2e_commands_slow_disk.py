"""``/signoff`` acks at once however long its answer takes to read.

Slack shows the person an error when a slash command is not acked in time (3 s; 1 s in
these tests). Bolt's ack was seen by a 10 ms poll on the bot's main loop, so the command's
own work there (reading a long trace, from a slow disk) held it back. The bot runs as its
own process here: its loop must not be the one that serves LocalSlack.
"""

from __future__ import annotations

from pathlib import Path

from ops_kit import RunProcess
from signoff_e2e_kit import (
    bot_reply,
    ephemeral_texts,
    lineage,
    mention,
    session_path,
    session_states,
    until,
)

from bot.config import Settings
from localslack import LocalSlack


async def test_a_trace_that_takes_long_to_read_is_still_acked_at_once(
    slack: LocalSlack, settings: Settings, tmp_path: Path
) -> None:
    home = settings.home
    bot = RunProcess(slack, home, tmp_path / "bot", http_port=0, SIGNOFF_MODEL="offline")
    try:
        await bot.connected(slack)
        thread = await mention(slack, "status of api")
        await bot_reply(slack, thread, "service=api,", timeout=20)
        (session_id,) = lineage(home, thread)
        await until(lambda: session_states(home) == {session_id: "completed"}, what="its end")
        # A session with a long history: its trace takes well over a second to read.
        trace = session_path(home, session_id) / "trace.jsonl"
        lines = trace.read_text().splitlines(keepends=True)
        trace.write_text("".join(lines * (80_000 // len(lines))))

        sent = await slack.slash_command(
            command="/signoff", user="U0CAROL", channel="C0OPS", text=f"trace {session_id}"
        )
        delivery = await slack.wait_for_delivery(
            lambda d: d.envelope_id == sent.envelope_id and (d.acked or d.timed_out)
        )
        assert delivery.acked and not delivery.user_saw_error and not delivery.late_ack
        # The answer follows, once read.
        (told,) = await until(lambda: ephemeral_texts(slack, "U0CAROL"), what="the answer")
        assert told == f"The trace of `{session_id}` is long; it is uploaded as a file here."
        # And the file follows: megabytes of trace, which Slack takes (up to 1 GB) and
        # LocalSlack refused past aiohttp's 1 MB default, so a second note said it failed.
        shared = await slack.wait_for_message(
            channel="C0OPS", predicate=lambda m: bool(m.get("files")), timeout=20
        )
        content = slack.file_content(shared["files"][0]["id"])
        assert len(content) > 1024 * 1024 and session_id.encode() in content
        assert ephemeral_texts(slack, "U0CAROL") == [told]
    finally:
        bot.kill()
