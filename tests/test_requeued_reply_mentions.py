"""A reply a crash kept from being queued (recorded in the transcript, the process killed
before its outbox entry) is queued by recovery as ``say`` would have queued it: the
thread's people it names stay mentions. Recovery queued it without them, so Slack showed
``<@U0ALICE>`` as the raw text people would have typed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine_support import THREAD

from agent_core.messages import AssistantMessage, UserMessage
from agent_core.surface import Delivered, RecordingSurface
from sessions import (
    FixedClock,
    Home,
    OutboxEntry,
    SessionFiles,
    SessionState,
    SessionStore,
    ThreadDir,
)


@dataclass
class MentionsSurface(RecordingSurface):
    mentions: list[tuple[str, ...]] = field(default_factory=list)

    async def post_reply(self, entry: OutboxEntry, *, check_first: bool) -> Delivered:
        self.mentions.append(tuple(entry.mentions))
        return await super().post_reply(entry, check_first=check_first)


def crashed_after_its_reply(home: Home, clock: FixedClock) -> str:
    """A session killed between recording its answer and queueing it."""
    store = SessionStore(home, clock=clock)
    record = store.create(thread=THREAD, parent_id=None, cause="message", session_md="#\n")
    store.transition(record.id, expected=SessionState.CREATED, new=SessionState.RUNNING)
    files = SessionFiles(home.session_dir(record.id), clock=clock)
    asked = UserMessage(text="<@U0SIGNOFF> is api up?", user="U0ALICE", ts="1700000000.000100")
    answer = AssistantMessage(text="<@U0ALICE> api is up.")
    for message in (asked, answer):
        files.append_transcript(message.model_dump(mode="json"))
    tdir = ThreadDir(home, THREAD)
    tdir.ensure()
    tdir.set_head(record.id)
    return record.id


async def test_recovery_queues_a_crashed_reply_with_its_mentions(
    make_engine: Any, home: Home, clock: FixedClock
) -> None:
    crashed_after_its_reply(home, clock)
    surface = MentionsSurface()
    engine = await make_engine(surface=surface)
    await engine.recover()
    await engine.idle()
    assert [text for _, text in surface.replies] == ["<@U0ALICE> api is up."]
    assert surface.mentions == [("U0ALICE",)]
