"""The loop's live view and the stop, at the engine (no Slack): what a turn tells its live
view, in order; that streaming changes nothing recorded; and that a stop — before, during
or between the model's calls — ends the turn, withdraws its requests and runs nothing more."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine_support import THREAD, HangingModel, call, head, message, text

from agent_core.live import GuardedLiveView, LiveTurn, ReplyStream, ToolStep
from agent_core.messages import Message, ToolResultMessage
from agent_core.model import ModelReply, RetryNotice, TextSink, ToolSpec
from agent_core.observe import ModelCall, RecordingObserver
from agent_core.providers.errors import ProviderError
from agent_core.scripted import ScriptedModel
from agent_core.session_run import SessionRun
from agent_core.stop_marker import read_stop
from agent_core.surface import RecordingSurface
from agent_core.tools import ToolRegistry, tool
from approvals import ApprovalRequest, Policy
from sessions import Home, SessionState, ThreadKey

STOP_TS = "1700000100.000000"


@dataclass
class Recorded:
    events: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass
class RecordingStream:
    log: Recorded
    entry_id: str
    text_seen: str = ""

    async def text(self, delta: str) -> None:
        self.text_seen += delta
        self.log.events.append(("text", self.entry_id, delta))

    async def restart(self) -> None:
        self.log.events.append(("restart", self.entry_id))

    async def steps(self, steps: Sequence[ToolStep]) -> None:
        self.log.events.append(("steps", self.entry_id, [(s.tool, s.status) for s in steps]))

    async def close(self) -> None:
        done = (("close", self.entry_id), ("abandon", self.entry_id))
        if not any(event in done for event in self.log.events):  # idempotent; not after abandon
            self.log.events.append(("close", self.entry_id))

    async def abandon(self) -> None:
        self.log.events.append(("abandon", self.entry_id))


@dataclass
class RecordingLive:
    """A live view that keeps what it was told (a fake, not a mock: it has no behaviour)."""

    log: Recorded = field(default_factory=Recorded)

    async def working(self, turn: LiveTurn, *, tools: Sequence[str] = ()) -> None:
        self.log.events.append(("working", tuple(tools)))

    def reply_stream(self, turn: LiveTurn, *, entry_id: str) -> ReplyStream:
        self.log.events.append(("stream", entry_id))
        return RecordingStream(self.log, entry_id)

    async def waiting(self, turn: LiveTurn, *, approvals: Sequence[str]) -> None:
        self.log.events.append(("waiting", len(approvals)))

    async def ended(self, turn: LiveTurn, *, state: str) -> None:
        self.log.events.append(("ended", state))

    async def retrying(self, turn: LiveTurn, notice: RetryNotice) -> None:
        self.log.events.append(("retrying", notice.attempt))

    def kinds(self) -> list[str]:
        out: list[str] = []
        for event in self.log.events:
            if event[0] != "text" and (not out or out[-1] != event[0] or event[0] == "steps"):
                out.append(event[0])
        return out


async def replies(engine: Any, surface: RecordingSurface) -> list[str]:
    """What the thread was told, once delivery is done."""
    await engine.idle()
    return [said for _, said in surface.replies]


async def test_a_gated_request_then_its_approval_as_the_live_view_sees_them(
    make_engine: Any, home: Home
) -> None:
    live = RecordingLive()
    engine = await make_engine(live=live)
    await engine.ingest(message("<@U0SIGNOFF> restart api", ts="1700000000.000100"))
    await engine.idle_workers()
    # The offline model asks with no words: its stream is abandoned, its steps still told.
    assert live.kinds() == [
        "working",
        "stream",
        "abandon",
        "steps",
        "working",
        "steps",
        "waiting",
    ]
    assert ("steps", f"reply-{head(home)}-m1", [("restart_service", "waiting")]) in live.log.events

    [approval] = [p.capsule.id for p in await engine.pending_for("U0BOB")]
    await engine.decide(approval, user="U0BOB", approve=True)
    await engine.idle_workers()
    assert live.kinds()[-4:] == ["working", "stream", "close", "ended"]
    assert live.log.events[-1] == ("ended", "completed")


async def test_streamed_text_is_the_recorded_text(
    make_engine: Any, home: Home, surface: RecordingSurface
) -> None:
    live = RecordingLive()
    model = ScriptedModel([text("All **green**, nothing to do.")])
    engine = await make_engine(model=model, live=live)
    await engine.ingest(message("how are things?", ts="1700000000.000100"))
    await engine.idle_workers()
    streamed = "".join(e[2] for e in live.log.events if e[0] == "text")
    assert streamed == "All **green**, nothing to do." == (await replies(engine, surface))[0]
    assert live.log.events[-1] == ("ended", "completed")


class BrokenModel:
    name = "broken"

    async def complete(
        self, *, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]
    ) -> ModelReply:
        raise AssertionError("stream is used")

    async def stream(
        self,
        *,
        system: str,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec],
        sink: TextSink,
    ) -> ModelReply:
        await sink.text("Half an ans")
        raise ConnectionError("the provider went away")


async def test_a_model_that_fails_mid_stream_abandons_its_stream(
    make_engine: Any, home: Home, surface: RecordingSurface
) -> None:
    live = RecordingLive()
    engine = await make_engine(model=BrokenModel(), live=live)
    await engine.ingest(message("how are things?", ts="1700000000.000100"))
    await engine.idle_workers()
    assert live.kinds() == ["working", "stream", "abandon", "ended"]
    (said,) = await replies(engine, surface)
    assert said.startswith("I could not get an answer from the model: the provider went away.")


async def test_a_provider_s_sentence_is_told_with_its_own_punctuation(
    make_engine: Any, home: Home, surface: RecordingSurface
) -> None:
    """A provider's message ends in its own full stop or (request-id …): wrapped in
    parentheses it read "(… a few minutes. (request-id req_1))." in the thread."""

    class Overloaded(BrokenModel):
        async def stream(self, **_: Any) -> ModelReply:
            raise ProviderError("Overloaded; try again in a few minutes. (request-id req_1)")

    engine = await make_engine(model=Overloaded())
    await engine.ingest(message("how are things?", ts="1700000000.000100"))
    await engine.idle_workers()
    (said,) = await replies(engine, surface)
    assert said == (
        "I could not get an answer from the model: Overloaded; try again in a few minutes. "
        "(request-id req_1) Your message is saved; mention me to try again."
    )


async def test_a_stop_cancels_the_model_call_in_flight(
    make_engine: Any, home: Home, surface: RecordingSurface
) -> None:
    live = RecordingLive()
    model = HangingModel(first_text="Thinking about it")
    observer = RecordingObserver()
    engine = await make_engine(model=model, live=live, observer=observer)
    # The call may start before the turn's records are written (early_call): stop once
    # the turn itself waits for it, its reply stream open.
    opened = asyncio.Event()
    open_stream = live.reply_stream

    def reply_stream(turn: LiveTurn, *, entry_id: str) -> ReplyStream:
        opened.set()
        return open_stream(turn, entry_id=entry_id)

    live.reply_stream = reply_stream  # type: ignore[method-assign]
    await engine.ingest(message("explain everything", ts="1700000000.000100"))
    await asyncio.wait_for(model.asked.wait(), 5)
    await asyncio.wait_for(opened.wait(), 5)
    outcome = await engine.stop(THREAD, user="U0BOB", slack_ts=STOP_TS)
    assert outcome is not None and outcome.interrupted and outcome.withdrawn == ()
    await asyncio.wait_for(engine.idle_workers(), 5)

    assert model.cancelled == 1
    calls = [e for e in observer.events if isinstance(e, ModelCall)]
    assert calls == [
        ModelCall(provider="hanging", outcome="cancelled", session_id=head(home), thread=THREAD)
    ]
    record = engine.rt.store.load(head(home))
    assert (record.state, record.reason) == (
        SessionState.CANCELLED,
        "stopped from Slack by <@U0BOB>",
    )
    assert live.kinds() == ["working", "stream", "abandon", "ended"]
    assert await replies(engine, surface) == ["Stopped by <@U0BOB>. I will not go on with this."]
    # A redelivered stop changes nothing and says nothing twice.
    await engine.stop(THREAD, user="U0BOB", slack_ts=STOP_TS)
    assert len(await replies(engine, surface)) == 1
    # A second click (another stop), then Slack delivering that one again (its ack was
    # lost): the thread was told once, by the first.
    await engine.stop(THREAD, user="U0CAROL", slack_ts="1700000101.000000")
    await engine.stop(THREAD, user="U0CAROL", slack_ts="1700000101.000000")
    await engine.stop(THREAD, user="U0BOB", slack_ts=STOP_TS)  # and the first again
    await engine.stop(THREAD, user="U0CAROL", slack_ts="1700000101.000000")
    assert len(await replies(engine, surface)) == 1


def stop_on_first_call(engine_box: list[Any]) -> ToolRegistry:
    @tool
    async def touch(name: str) -> str:
        """Touch one thing (the first touch stops the thread, as a person clicking stop).

        Args:
            name: what to touch
        """
        if name == "first":
            await engine_box[0].stop(THREAD, user="U0BOB", slack_ts=STOP_TS)
        return f"touched {name}"

    return ToolRegistry([touch])


async def test_a_stop_between_tool_calls_runs_no_further_call(make_engine: Any, home: Home) -> None:
    box: list[Any] = []
    calls = ModelReply(
        text="",
        tool_calls=tuple(
            call("touch", {"name": n}, call_id=f"call_{n}").tool_calls[0]
            for n in ("first", "second", "third")
        ),
        stop_reason="tool_use",
    )
    model = ScriptedModel([calls])  # a second model call would fail the test
    engine = await make_engine(model=model, registry=stop_on_first_call(box))
    box.append(engine)
    await engine.ingest(message("touch everything", ts="1700000000.000100"))
    await engine.idle_workers()

    run = SessionRun(engine.rt, engine.rt.store.load(head(home)))
    results = {m.call_id: m for m in run.transcript if isinstance(m, ToolResultMessage)}
    assert results["call_first"].content == "touched first"
    for later in ("call_second", "call_third"):
        assert (results[later].status, results[later].content) == (
            "error",
            "not run: stopped from Slack by <@U0BOB>",
        )
    assert run.record.state == SessionState.CANCELLED
    assert len(model.calls) == 1


async def test_a_stop_withdraws_waiting_requests_and_a_later_message_is_new_work(
    make_engine: Any, home: Home, surface: RecordingSurface
) -> None:
    engine = await make_engine()
    await engine.ingest(message("<@U0SIGNOFF> restart api", ts="1700000000.000100"))
    await engine.idle_workers()
    [pending] = [p.capsule for p in await engine.pending_for("U0BOB")]

    outcome = await engine.stop(THREAD, user="U0CAROL", slack_ts=STOP_TS)
    await engine.idle_workers()
    assert outcome is not None and not outcome.interrupted
    [(request, decision)] = outcome.withdrawn
    assert request.id == pending.id
    assert (decision.verdict, decision.deciders) == ("denied", ("U0CAROL",))
    assert ApprovalRequest.open(home, pending.id).decision() == decision
    assert read_stop(home, THREAD) is not None
    # A version from 2026-12-04 (a supported rollback) reads the marker, and its
    # StopRequest refuses a field it does not know: one click writes only those it knows.
    marker = json.loads((home.thread_dir(THREAD) / "stop.json").read_bytes())
    assert set(marker) == {"schema_version", "thread", "user", "at", "slack_ts"}

    # A message after the stop is new work: the stop no longer applies, and is cleared.
    await engine.ingest(message("<@U0SIGNOFF> status of api", ts="1700000200.000100"))
    await engine.idle_workers()
    assert read_stop(home, THREAD) is None
    record = engine.rt.store.load(head(home))
    assert record.state == SessionState.COMPLETED
    assert any("service=api" in r for r in await replies(engine, surface))
    # The denial reached the model's transcript as a result, not a second card.
    run = SessionRun(engine.rt, record)
    denied = [
        m for m in run.transcript if isinstance(m, ToolResultMessage) and m.status == "denied"
    ]
    assert len(denied) == 1 and "stopped from Slack by <@U0CAROL>" in denied[0].content
    assert "stopped from Slack by <@U0CAROL>" in decision.reason


async def test_a_stop_in_a_thread_signoff_is_not_in_is_ignored(make_engine: Any) -> None:
    engine = await make_engine()
    assert await engine.stop(THREAD, user="U0BOB", slack_ts=STOP_TS) is None


class FailingLive(RecordingLive):
    """A live view that fails at every step (a Slack outage, a bug)."""

    async def working(self, turn: LiveTurn, *, tools: Sequence[str] = ()) -> None:
        raise RuntimeError("status down")

    def reply_stream(self, turn: LiveTurn, *, entry_id: str) -> ReplyStream:
        raise RuntimeError("streams down")

    async def ended(self, turn: LiveTurn, *, state: str) -> None:
        raise RuntimeError("status down")


async def test_a_failing_live_view_never_fails_the_turn(
    make_engine: Any, home: Home, surface: RecordingSurface
) -> None:
    engine = await make_engine(live=GuardedLiveView(FailingLive()))
    await engine.ingest(message("<@U0SIGNOFF> status of api", ts="1700000000.000100"))
    await engine.idle()
    assert not engine.errors
    assert engine.rt.store.load(head(home)).state == SessionState.COMPLETED
    assert any("service=api" in r for r in await replies(engine, surface))


async def test_a_stop_withdraws_only_what_the_stopper_asked_for_or_may_decide(
    make_engine: Any, home: Home
) -> None:
    only_bob = Policy.from_mapping({"default": {"approvers": ["U0BOB"]}}, source="test")
    engine = await make_engine(policy=only_bob)
    await engine.ingest(message("<@U0SIGNOFF> restart api", ts="1700000000.000100"))
    await engine.idle_workers()
    [pending] = [p.capsule for p in await engine.pending_for("U0BOB")]

    # Carol may neither approve nor deny it: her stop stops the work, not Alice's request.
    outcome = await engine.stop(THREAD, user="U0CAROL", slack_ts=STOP_TS)
    await engine.idle_workers()
    assert outcome is not None and outcome.withdrawn == ()
    assert ApprovalRequest.open(home, pending.id).decision() is None

    # Alice asked for it: her stop withdraws it.
    outcome = await engine.stop(THREAD, user="U0ALICE", slack_ts="1700000300.000100")
    await engine.idle_workers()
    assert outcome is not None
    assert [r.id for r, _ in outcome.withdrawn] == [pending.id]


async def test_pending_for_opens_no_request_whose_card_the_person_cannot_see(
    make_engine: Any, monkeypatch: Any
) -> None:
    """The Home tab and ``/signoff pending`` ask this on every view: requests in channels
    the person is not in are left out by their index rows, without reading them."""
    engine = await make_engine()
    for n in range(5):
        thread = ThreadKey(team="T0LOCAL", channel="C0SECRET", thread_ts=f"1700000{n}00.000100")
        await engine.ingest(message("<@U0SIGNOFF> restart api", ts=thread.thread_ts, thread=thread))
    await engine.idle()
    mine = await engine.pending_for("U0BOB")
    assert len(mine) == 5
    # Each card is found by its message (the index learnt where it was posted).
    for pending in mine:
        assert pending.card is not None
        found = await engine.approval_with_card(channel=pending.card.channel, ts=pending.card.ts)
        assert found is not None and found.id == pending.capsule.id
    opened: list[str] = []
    real = ApprovalRequest.open.__func__  # type: ignore[attr-defined]

    def counting(cls: type[ApprovalRequest], /, home: Home, approval_id: str, **kw: Any) -> Any:
        opened.append(approval_id)
        return real(cls, home, approval_id, **kw)

    monkeypatch.setattr(ApprovalRequest, "open", classmethod(counting))

    async def in_ops_only(channel: str) -> bool:
        return channel == "C0OPS"

    assert await engine.pending_for("U0BOB", visible=in_ops_only) == []
    assert opened == []


async def test_every_withdrawal_is_observed_once_wherever_it_happens(make_engine: Any) -> None:
    """A stop withdraws waiting requests from two places: ``Engine.stop`` (the click) and a
    turn that parks a request while a stop applies (asked while it came). Only the first
    told the log and ``signoff_approvals_total`` of its denial: ``withdraw_waiting`` itself
    now does, and the stop's click is counted once."""
    from agent_core.observe import DecisionRecorded
    from agent_core.stop_marker import StopRequest
    from agent_core.stops import withdraw_waiting

    observer = RecordingObserver()
    engine = await make_engine(observer=observer)
    for ts in ("1700000000.000100", "1700000000.000200"):
        thread = ThreadKey(team=THREAD.team, channel=THREAD.channel, thread_ts=ts)
        await engine.ingest(message("<@U0SIGNOFF> restart api", ts=ts, thread=thread))
    await engine.idle_workers()
    first, second = sorted(
        (p.capsule for p in await engine.pending_for("U0BOB")), key=lambda c: c.created_at
    )

    await engine.stop(first.thread, user="U0CAROL", slack_ts=STOP_TS)
    stop = StopRequest(thread=second.thread, user="U0CAROL", at=first.created_at, slack_ts=STOP_TS)
    await withdraw_waiting(engine.rt, stop)  # what the turn does

    withdrawn = [e for e in observer.events if isinstance(e, DecisionRecorded)]
    assert [(e.approval_id, e.user, e.verdict) for e in withdrawn] == [
        (first.id, "U0CAROL", "denied"),
        (second.id, "U0CAROL", "denied"),
    ]
