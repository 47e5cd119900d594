"""Ingest of ``subteam_members_changed``: the shapes Slack documents are handed on as who
joined and who left; a malformed one is dropped, nothing handed on, nothing quarantined."""

from __future__ import annotations

from typing import Any

import pytest
from test_ingest import Disk, ingest_for

from bot.envelopes import Fate
from bot.handled_events import GroupChange
from sessions import FixedClock, Home, Quarantine


def changed(*, without: str = "", **fields: Any) -> dict[str, Any]:
    """docs.slack.dev/reference/events/subteam_members_changed, as it prints it."""
    event = {"type": "subteam_members_changed", "subteam_id": "S0614TZR7",
             "team_id": "T060RNRCH", "date_previous_update": 1446670362,
             "date_update": 1492906952, "added_users": ["U060RNRCZ", "U060ULRC0"],
             "added_users_count": "2", "removed_users": ["U06129G2V"],
             "removed_users_count": "1"}  # fmt: skip
    event.pop(without, None)
    return {"type": "event_callback", "team_id": "T060RNRCH", "event_id": "EvGroup1",
            "event": {**event, **fields}}  # fmt: skip


async def test_a_change_is_handed_on_as_who_joined_and_who_left(
    home: Home, clock: FixedClock
) -> None:
    seen: list[GroupChange] = []
    ingest = ingest_for(Disk(), home, clock, on_group_changed=seen.append)
    outcome = await ingest.handle(changed())
    assert (outcome.fate, outcome.acked, outcome.ref) == (Fate.HANDLED, True, "EvGroup1")
    assert seen == [
        GroupChange(group="S0614TZR7", added=("U060RNRCZ", "U060ULRC0"), removed=("U06129G2V",))
    ]
    assert seen[0].people == ("U060RNRCZ", "U060ULRC0", "U06129G2V")
    # Slack's SDK types the counts as numbers and the lists as optional: taken too.
    await ingest.handle(
        changed(added_users_count=0, removed_users_count=1.0, without="added_users")
    )
    await ingest.handle(changed(event_ts="1526332273.000322", removed_users=[]))
    assert [(c.added, c.removed) for c in seen[1:]] == [
        ((), ("U06129G2V",)),
        (("U060RNRCZ", "U060ULRC0"), ()),
    ]


@pytest.mark.parametrize(
    "fields",
    [{"added_users": "U0CAROL"}, {"removed_users": ["../etc"]}, {"subteam_id": 7}],
    ids=["added-not-a-list", "removed-not-an-id", "group-not-an-id"],
)
async def test_a_malformed_change_is_dropped_and_hands_nothing_on(
    home: Home, clock: FixedClock, fields: dict[str, Any]
) -> None:
    seen: list[GroupChange] = []
    ingest = ingest_for(Disk(), home, clock, on_group_changed=seen.append)
    outcome = await ingest.handle(changed(**fields))
    assert (outcome.fate, outcome.acked) == (Fate.DROPPED, True)
    assert outcome.reason.startswith("subteam_members_changed: event.")
    assert seen == []
    assert list(Quarantine(home, clock=clock).records()) == []
