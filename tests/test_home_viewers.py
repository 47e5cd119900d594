"""Who opened the App Home, on disk: read back newest last, bounded, and never a failure."""

from __future__ import annotations

from datetime import timedelta

from sessions import FixedClock, Home, HomeViewers


def test_people_come_back_least_recent_first_once_each(home: Home) -> None:
    viewers = HomeViewers(home, clock=FixedClock())
    for user in ("U0BOB", "U0CAROL", "U0BOB", "U0DAVE"):
        viewers.add(user)
    assert HomeViewers(home, clock=FixedClock()).load(limit=10) == ["U0CAROL", "U0BOB", "U0DAVE"]
    assert viewers.load(limit=2) == ["U0BOB", "U0DAVE"]


def test_a_long_file_is_compacted_to_the_people_it_keeps(home: Home) -> None:
    viewers = HomeViewers(home, clock=FixedClock())
    for n in range(30):
        viewers.add(f"U0P{n:03d}")
    assert viewers.load(limit=10) == [f"U0P{n:03d}" for n in range(20, 30)]
    assert len(viewers.path.read_text().splitlines()) == 10
    assert viewers.load(limit=10) == [f"U0P{n:03d}" for n in range(20, 30)]


def test_a_torn_or_foreign_line_is_skipped_and_a_missing_file_is_nobody(home: Home) -> None:
    viewers = HomeViewers(home, clock=FixedClock())
    assert viewers.load(limit=10) == []
    viewers.add("U0BOB")
    with viewers.path.open("a") as out:
        out.write('{"schema_version": 1, "user": "<!channel>", "at": "x"}\n')
        out.write('{"schema_version": 1, "user": "U0CA')  # a crash mid-append
    assert viewers.load(limit=10) == ["U0BOB"]
    viewers.add("U0DAVE")  # the next line starts after the torn one
    assert viewers.load(limit=10) == ["U0BOB", "U0DAVE"]


def test_a_home_that_cannot_be_written_loses_only_the_memory(home: Home) -> None:
    viewers = HomeViewers(home, clock=FixedClock())
    viewers.path.mkdir()  # not a file: every read and append fails
    viewers.add("U0BOB")
    assert viewers.load(limit=10) == []


def test_a_bot_that_runs_on_keeps_its_file_bounded(home: Home) -> None:
    # The bot adds a person its memory of max_people had let go each time they come back:
    # with more people than that, a bot that runs for months appends without end.
    viewers = HomeViewers(home, clock=FixedClock())
    assert viewers.load(limit=10) == []
    for n in range(100):
        viewers.add(f"U0P{n % 15:03d}")
        assert len(viewers.path.read_text().splitlines()) <= 2 * 10 + 1
    assert HomeViewers(home, clock=FixedClock()).load(limit=10) == [
        f"U0P{n % 15:03d}" for n in range(90, 100)
    ]


def test_people_who_have_not_opened_their_home_for_90_days_are_not_drawn_again(
    home: Home,
) -> None:
    """Someone who left the workspace stayed in the file for ever, and every start (and
    every change open to anyone) published a Home for them that Slack refused."""
    clock = FixedClock()
    viewers = HomeViewers(home, clock=clock)
    viewers.add("U0GONE")
    clock.advance(timedelta(days=10))
    viewers.add("U0BOB")
    clock.advance(timedelta(days=85))
    assert HomeViewers(home, clock=clock).load(limit=10) == ["U0BOB"]
    # A compaction keeps each person's own time: it does not make the departed young.
    for n in range(30):
        viewers.add(f"U0P{n:03d}")
    clock.advance(timedelta(days=50))
    assert viewers.load(limit=10) == [f"U0P{n:03d}" for n in range(20, 30)]  # rewritten
    assert len(viewers.path.read_text().splitlines()) == 10
    clock.advance(timedelta(days=41))
    assert HomeViewers(home, clock=clock).load(limit=10) == []


def test_a_person_who_keeps_coming_back_is_written_again_once_a_day(home: Home) -> None:
    """The file said when a process first saw someone: one that ran for 100 days would
    have aged out, at its restart, people who open their Home every day."""
    clock = FixedClock()
    viewers = HomeViewers(home, clock=clock)
    viewers.add("U0BOB")
    for _ in range(100):
        clock.advance(timedelta(hours=6))
        viewers.seen("U0BOB")
    assert len(viewers.path.read_text().splitlines()) == 1 + 100 // 4
    assert HomeViewers(home, clock=clock).load(limit=10) == ["U0BOB"]
    clock.advance(timedelta(days=100))
    viewers.seen("U0BOB")
    assert HomeViewers(home, clock=clock).load(limit=10) == ["U0BOB"]


def test_a_time_without_a_zone_or_not_a_time_is_skipped_not_a_failed_start(home: Home) -> None:
    """A line whose ``at`` named no zone (written by hand, or by another tool) made the
    age comparison raise TypeError, and the start that loaded the file failed."""
    viewers = HomeViewers(home, clock=FixedClock())
    viewers.add("U0BOB")
    with viewers.path.open("a") as out:
        out.write('{"schema_version": 1, "user": "U0CAROL", "at": "2026-01-01T00:00:00"}\n')
        out.write('{"schema_version": 1, "user": "U0DAVE", "at": "2026-01-01"}\n')
        out.write('{"schema_version": 1, "user": "U0ERIN", "at": "yesterday"}\n')
    assert viewers.load(limit=10) == ["U0BOB"]


def test_someone_let_go_stays_let_go_across_compactions_until_seen_again(home: Home) -> None:
    """A running bot asks ``recent`` before drawing a Home for a change open to anyone:
    someone a compaction dropped from the file must not read as someone never known."""
    clock = FixedClock()
    viewers = HomeViewers(home, clock=clock)
    viewers.load(limit=3)
    viewers.add("U0GONE")
    assert viewers.recent("U0GONE") and viewers.recent("U0NEVER")
    clock.advance(timedelta(days=90))
    assert viewers.recent("U0GONE")  # 90 days to the millisecond: still kept
    clock.advance(timedelta(milliseconds=1))
    assert not viewers.recent("U0GONE")
    for round_ in range(3):  # compactions, each by an ``add`` past the limit
        for n in range(4):
            viewers.add(f"U0P{round_}{n}")
    assert "U0GONE" not in viewers.path.read_text()
    assert not viewers.recent("U0GONE")
    viewers.seen("U0GONE")  # opened theirs again
    assert viewers.recent("U0GONE") and "U0GONE" in viewers.path.read_text()
