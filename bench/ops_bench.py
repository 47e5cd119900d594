"""What metrics and logs cost a turn (issue: operating signoff; target ≤ 5 %).

Two engines in one run, on two homes, turns interleaved so that drift hits both alike:
*off* has the ``NullObserver`` and no log handler at INFO; *on* has the bot's observer
(Prometheus counters and JSON log lines written to a file, the way stderr goes to a
container's log). A turn: message → model asks for ``service_status`` → tool runs → model
answers → completed, scripted model, fsync on.

A turn's events: the bot's side (message stored, ack, two Slack calls) is emitted here, as
the socket handler and the Web API client would; the engine's side (session states, model
calls, tool executed, reply posted) is emitted by the engine once it reports to
``Runtime.observer``, and simulated here until it does (the table says which).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path

from agent_core.demo_fleet import demo_registry
from agent_core.engine import Engine
from agent_core.model import ModelReply, RawToolCall
from agent_core.observe import (
    EnvelopeAcked,
    Event,
    MessageStored,
    ModelCall,
    NullObserver,
    Observer,
    RecordingObserver,
    ReplyPosted,
    SessionStateChanged,
    SlackApiCall,
    ToolExecuted,
    guarded,
)
from agent_core.scripted import ScriptedModel
from agent_core.surface import RecordingSurface
from bot.event_log import EventLog
from bot.logs import JsonFormatter, RedactSecrets, lean_records
from bot.metrics import Metrics
from sessions import Home, InboxMessage, ThreadKey

from .report import median, p99, table

__all__ = ["overhead_table"]


def _thread(n: int) -> ThreadKey:
    return ThreadKey(team="T0BENCH", channel="C0BENCH", thread_ts=f"{1700000000 + n}.000100")


def _script(turns: int) -> ScriptedModel:
    steps: list[ModelReply] = []
    for i in range(turns):
        call = RawToolCall(id=f"c{i}", name="service_status", arguments='{"service":"api"}')
        steps += [
            ModelReply(tool_calls=(call,), stop_reason="tool_use"),
            ModelReply(text="api is healthy"),
        ]
    return ScriptedModel(steps, record=False)


def _bot_side(thread: ThreadKey) -> list[Event]:
    return [
        MessageStored(thread=thread, event_type="app_mention", outcome="stored", event_id="Ev1"),
        EnvelopeAcked(envelope_type="events_api", seconds=0.002),
        SlackApiCall(method="reactions.add", outcome="ok"),
        SlackApiCall(method="chat.postMessage", outcome="ok"),
    ]


def _engine_side(thread: ThreadKey) -> list[Event]:
    sid = "sess_0123456789ab"
    return [
        SessionStateChanged(session_id=sid, thread=thread, state="created"),
        SessionStateChanged(session_id=sid, thread=thread, state="running"),
        ModelCall(provider="scripted", outcome="ok", input_tokens=120, output_tokens=12),
        ToolExecuted(tool="service_status", outcome="ok", ms=0.4, session_id=sid, thread=thread),
        ModelCall(provider="scripted", outcome="ok", input_tokens=160, output_tokens=8),
        ReplyPosted(session_id=sid, thread=thread),
        SessionStateChanged(session_id=sid, thread=thread, state="completed"),
    ]


class _Counting:
    def __init__(self, inner: Observer) -> None:
        self.inner = inner
        self.count = 0

    def emit(self, event: Event) -> None:
        self.count += 1
        self.inner.emit(event)


def _json_logger(path: Path) -> tuple[logging.Logger, logging.Handler]:
    lean_records()  # as setup_logging does for signoff run
    handler = logging.FileHandler(path)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactSecrets())
    logger = logging.getLogger("signoff.bench.events")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger, handler


async def overhead_table(turns: int = 300) -> str:
    root = Path(tempfile.mkdtemp(prefix="signoff-bench-ops-"))
    logger, handler = _json_logger(root / "signoff.log")
    metrics = Metrics()
    on_observer = _Counting(guarded([metrics, EventLog(logger)]))
    # "off again" is the same as "off": the spread between the two is the run's noise.
    observers: dict[str, Observer] = {
        "off": NullObserver(),
        "off again": NullObserver(),
        "on": on_observer,
    }
    engines: dict[str, Engine] = {}
    for n, (name, observer) in enumerate(observers.items()):
        engines[name] = await Engine.open(
            home=Home(root / f"home{n}"),
            model=_script(turns + 10),
            registry=demo_registry(),
            surface=RecordingSurface(),
            observer=observer,
        )
    times: dict[str, list[float]] = {name: [] for name in observers}
    names = list(observers)
    engine_emits = 0
    for i in range(-10, turns):  # ten warm-up turns each, not timed
        for name in names[i % 3 :] + names[: i % 3]:  # each goes first in turn
            engine, observer = engines[name], observers[name]
            thread = _thread(i % 20 + 100 * (i < 0))
            message = InboxMessage(
                thread=thread,
                ts=f"{1800000000 + i + 10}.000100",
                user="U0ALICE",
                text="status of api",
                received_at="2026-01-01T00:00:00Z",
            )
            before = on_observer.count
            start = time.perf_counter()
            await engine.ingest(message)
            for event in _bot_side(thread):
                observer.emit(event)
            await engine.idle()
            if name == "on":
                engine_emits = on_observer.count - before - len(_bot_side(thread))
                if engine_emits == 0:  # the engine does not report yet: a turn's worth
                    for event in _engine_side(thread):
                        observer.emit(event)
            elapsed = time.perf_counter() - start
            if i >= 0:
                times[name].append(elapsed)
    for engine in engines.values():
        await engine.close()
    handler.flush()
    lines = sum(1 for _ in (root / "signoff.log").open())
    per_event = _per_event_cost(metrics, logger)
    handler.close()
    shutil.rmtree(root)
    per_turn_events = len(_bot_side(_thread(0))) + (engine_emits or len(_engine_side(_thread(0))))
    source = (
        f"engine: {engine_emits}" if engine_emits else f"simulated: {len(_engine_side(_thread(0)))}"
    )
    off = median(times["off"])
    rows = []
    for name in names:
        paired = median([x - y for x, y in zip(times[name], times["off"], strict=True)])
        rows.append(
            [
                name,
                f"{median(times[name]) * 1000:.2f} ms",
                f"{p99(times[name]) * 1000:.2f} ms",
                f"{median(times[name]) / off:.3f}x",
                f"{paired * 1000:+.3f} ms",
            ]
        )
    out = table(
        f"Metrics and logs per turn ({turns} turns each, interleaved, scripted model with one "
        f"tool call, fsync on; events per turn: bot 4, engine {source}; {lines} log lines)",
        ["observer", "median turn", "p99 turn", "median vs off", "paired median vs off"],
        rows,
    )
    both = dict(per_event)["metrics + JSON log"]
    estimate = per_turn_events * both / 1e6
    out += table(
        "Cost of one event (100,000 events), and of a turn's events (target ≤ 5 % of a turn)",
        ["observer", "per event", f"× {per_turn_events} events per turn", "share of a turn"],
        [
            [name, f"{micro:.1f} µs", f"{per_turn_events * micro / 1000:.3f} ms",
             f"{per_turn_events * micro / 1e6 / off:.2%}"]
            for name, micro in per_event
        ],
    )  # fmt: skip
    return out + f"\n(metrics + JSON logs: {estimate * 1000:.3f} ms of a {off * 1000:.2f} ms turn)"


def _per_event_cost(metrics: Metrics, logger: logging.Logger) -> list[tuple[str, float]]:
    thread = _thread(0)
    events = _bot_side(thread) + _engine_side(thread)
    candidates: list[tuple[str, Observer]] = [
        ("NullObserver", NullObserver()),
        ("metrics", guarded([metrics])),
        ("JSON log", guarded([EventLog(logger)])),
        ("metrics + JSON log", guarded([metrics, EventLog(logger)])),
        ("RecordingObserver (list append)", RecordingObserver()),
    ]
    rows = []
    n = 100_000
    for name, observer in candidates:
        start = time.perf_counter()
        for i in range(n):
            observer.emit(events[i % len(events)])
        rows.append((name, (time.perf_counter() - start) / n * 1e6))
    return rows
