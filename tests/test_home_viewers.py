"""Who opened the App Home, on disk: read back newest last, bounded, and never a failure."""

from __future__ import annotations

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
