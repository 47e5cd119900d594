"""5,000+ generated envelopes through the real Socket Mode path into a running bot.

Hypothesis generates the envelopes (``signoff_fuzz_shapes``: Slack's documented shapes,
valid and mutated, and junk) up front, deterministically; LocalSlack sends them all at
the bot over its socket, as Slack would, without redelivery so that every miss shows.
Then: every envelope was acked (stored, dropped or quarantined), nothing logged a
traceback, and a normal mention is still answered.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from signoff_e2e_kit import BOT_USER, OPS, bot_reply, mention, until
from signoff_fuzz_shapes import Envelope, Workspace, envelopes

from bot.app import SignoffBot
from bot.config import Settings
from bot.envelopes import Fate
from localslack import Delivery, LocalSlack, Timing

TARGET = 5_000
# At most this many envelopes in flight: the test judges fates, not speed, so a loaded
# machine (CI runs two test processes per core) must not turn Slack's 3 s ack deadline
# into a failure.
BATCH = 50

# One delivery each (no redelivery hides a missing ack), and time enough for a loaded CI.
pytestmark = pytest.mark.slack_timing(
    Timing(ack_timeout=30.0, max_event_retries=0, server_ping_interval=None)
)


def generate(ws: Workspace, count: int) -> list[Envelope]:
    """``count`` envelopes from Hypothesis, the same ones on every run."""
    out: list[Envelope] = []

    @settings(
        max_examples=count // (BATCH // 10) + 1,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(envelopes(ws), min_size=BATCH // 10, max_size=BATCH // 10))
    def collect(envelopes: list[Envelope]) -> None:
        out.extend(envelopes)

    while len(out) < count:
        collect()
    return [_unique_event_id(e, n) for n, e in enumerate(out[:count])]


def _unique_event_id(envelope: Envelope, n: int) -> Envelope:
    """Slack's event ids are unique per event; Hypothesis repeats its simplest values.

    An id seen twice is a redelivery, and one that arrives while its first copy is still
    being stored is rightly left unacked (for Slack to deliver again): not what this test
    counts. Ids that are malformed on purpose stay as they are.
    """
    payload = envelope.payload
    if isinstance(payload, dict) and re.fullmatch(r"Ev[0-9]{14}", str(payload.get("event_id"))):
        return Envelope(envelope.type, {**payload, "event_id": f"Ev{n:06d}Z"})
    return envelope


def tracebacks(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    return [r for r in records if r.exc_info or r.levelno >= logging.ERROR]


def said_about(payload: object, records: list[logging.LogRecord]) -> list[str]:
    """What the bot logged about an envelope's event id: why a miss was missed."""
    event_id = payload.get("event_id") if isinstance(payload, dict) else None
    if not isinstance(event_id, str) or not event_id:
        return []
    return [f"{r.name}: {r.getMessage()[:300]}" for r in records if event_id in r.getMessage()]


def settled(deliveries: list[Delivery]) -> bool:
    return all(d.acked or d.timed_out for d in deliveries if d.raw)


def fates(records: list[logging.LogRecord]) -> Counter[str]:
    """How the socket handler judged each envelope it logged (handled ones are silent)."""
    counts: Counter[str] = Counter()
    for record in records:
        if record.name == "signoff.socket":
            words = record.getMessage().split(":")[0].split()
            counts[next((w for w in words if w in set(Fate)), "other")] += 1
    return counts


async def test_fuzzed_envelopes_are_all_acked_and_nothing_breaks(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="signoff")
    caplog.set_level(logging.DEBUG, logger="signoff.socket")  # last: it sets the handler's too
    # Threads the bot takes part in: follow-ups there are stored and answered.
    threads = []
    for service in ("api", "web"):
        ts = await mention(slack, f"status of {service}")
        await bot_reply(slack, ts, f"service={service},")
        threads.append(ts)
    await bot.engine.idle()
    ws = Workspace(
        url=slack.url,
        team=slack.config.team_id,
        channels=(OPS, "C0GENERAL"),
        users=("U0ALICE", "U0BOB", "U0CAROL"),
        bot_user=BOT_USER,
        bot_id=slack.config.bot.bot_id,
        threads=tuple(threads),
    )
    started = time.monotonic()
    # Off this loop: LocalSlack runs on it, and a loop blocked for the 10-20 s generation
    # misses the pong of the bot's websocket heartbeat (every 10 s, due within 5): aiohttp
    # drops the link, the client reconnects, and the first envelopes, sent on the socket
    # it left, are lost (Slack would deliver them again; this test allows no redelivery).
    batch = await asyncio.to_thread(generate, ws, TARGET)
    generated = time.monotonic() - started
    before = len(slack.deliveries())
    for start in range(0, len(batch), BATCH):
        for envelope in batch[start : start + BATCH]:
            await slack.send_envelope(type=envelope.type, payload=envelope.payload)
        await until(lambda: settled(slack.deliveries()[before:]), timeout=60, every=0.01)
    sent = [d for d in slack.deliveries()[before:] if d.raw]
    await until(lambda: all(d.acked or d.timed_out for d in sent), timeout=60, every=0.05)
    elapsed = time.monotonic() - started
    await bot.engine.idle()
    await bot.socket.call(bot.ingest.drain(within=10))
    acked = [d for d in sent if d.acked]
    quarantined = sum(1 for _ in Path(settings.home, "quarantine").glob("*/*.json"))
    errors = tracebacks(caplog.records)
    outcomes = fates(caplog.records)
    outcomes["handled (by a listener)"] = len(sent) - sum(outcomes.values())
    print(
        f"\nfuzz: sent={len(sent)} acked={len(acked)} quarantined={quarantined} "
        f"tracebacks={len(errors)} late_or_unacked={sum(not d.acked or d.late_ack for d in sent)} "
        f"generated_in={generated:.1f}s total={elapsed:.1f}s outcomes={dict(outcomes)}"
    )
    assert len(sent) == TARGET
    unacked = [d for d in sent if not d.acked]
    assert unacked == [], [(d, said_about(d.payload, caplog.records)) for d in unacked[:3]]
    assert not any(d.late_ack or d.user_saw_error for d in sent)
    assert errors == [], [r.getMessage() for r in errors[:5]]
    assert not [r for r in caplog.records if "Unhandled request" in r.getMessage()]
    assert quarantined > 0
    # And the bot still answers a person.
    thread = await mention(slack, "status of db")
    await bot_reply(slack, thread, "service=db,", timeout=15)
