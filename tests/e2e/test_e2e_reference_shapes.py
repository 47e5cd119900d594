"""Payloads exactly as Slack's reference prints them, through the real Socket Mode path and
Bolt app: each is taken as what it is, not quarantined for a field signoff never reads."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FAST
from signoff_e2e_kit import as_in_manifest, home_texts

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack, WorkspaceConfig

T = "T0LOCAL"


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=5, timing=FAST))) as server:
        yield server


def quarantined(home: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((home / "quarantine").glob("*/*.json"))]


async def test_app_home_opened_as_slacks_reference_shows_it_publishes_the_home(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """docs.slack.dev/reference/events/app_home_opened prints ``event_ts`` as
    ``"1515449522000016"`` (no dot). signoff never reads it: the person still gets a Home."""
    payload = {
        "token": "legacy",
        "team_id": T,
        "api_app_id": "A0SIGNOFF",
        "type": "event_callback",
        "event_id": "Ev0HOMEREF1",
        "event_time": 1515449522,
        "event": {
            "type": "app_home_opened",
            "user": "U0BOB",
            "channel": "D0BOB",
            "event_ts": "1515449522000016",
            "tab": "home",
        },
    }
    sent = await slack.send_envelope(type="events_api", payload=payload)
    done = await slack.wait_for_ack(sent.envelope_id, timeout=5)
    assert not done.timed_out
    view = await slack.wait_for_home_view(
        lambda v: "Waiting for you" in home_texts(v), user="U0BOB", timeout=5
    )
    assert view["type"] == "home"
    assert quarantined(settings.home) == []
