"""What the chaos test (``tests/e2e/test_chaos.py``) found, each as the smallest sequence of
named crashes that shows it, through the real CLI as in ``test_crash_safety``.

Each stayed ``xfail(strict=True)`` until the product was fixed; all three are fixed now.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers_proc import (
    THREAD_TS,
    cli,
    close_fork_servers,
    describe,
    head_transcript,
    ok,
    outbox_entries,
    say,
)


@pytest.fixture(scope="module", autouse=True)
def _fork_servers() -> Iterator[None]:
    yield
    close_fork_servers()


def test_a_message_stored_just_before_a_kill_is_answered_without_a_redelivery(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    # Stored in the thread's inbox, then killed before the work-queue marker: never acked.
    killed = say(home, "<@U0BOT> status of api", ts=THREAD_TS, failpoint="ingest.after_link")
    assert killed.returncode == -9, describe(killed)
    assert list(home.glob("threads/*/*/*/*/inbox/new/[!.]*")), "the message was not stored"
    # Slack gave up redelivering it; the bot starts again.
    ok(cli(home, "recover"))

    assert not list(home.glob("threads/*/*/*/*/inbox/new/[!.]*")), "the message is still waiting"
    assert [m.get("ts") for m in head_transcript(home) if m.get("role") == "user"] == [THREAD_TS]


def test_an_answer_survives_a_second_crash_right_after_its_session_is_closed(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    # The model answers (offline "help": text, no tool call); the process dies after the
    # answer is in the transcript and before it is queued for Slack.
    first = say(home, "<@U0BOT> help", ts=THREAD_TS, failpoint="loop.after_assistant_recorded")
    assert first.returncode == -9, describe(first)
    # Start-up recovery continues the thread in a child and closes the crashed session;
    # it dies right after the close.
    second = cli(home, "recover", failpoint="recovery.after_close")
    assert second.returncode == -9, describe(second)
    ok(cli(home, "recover"))

    answers = [
        m["text"]
        for m in head_transcript(home)
        if m.get("role") == "assistant" and str(m.get("text") or "").strip()
    ]
    assert answers, "the model's answer is not in the transcript"
    queued = [e["text"] for e in outbox_entries(home) if e["kind"] == "reply"]
    for text in answers:
        assert queued.count(text) == 1, f"queued {queued.count(text)} times: {text[:60]!r}"


def test_an_answer_survives_a_crash_after_the_recovering_child_became_head(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    first = say(home, "<@U0BOT> help", ts=THREAD_TS, failpoint="loop.after_assistant_recorded")
    assert first.returncode == -9, describe(first)
    # Recovery's child is created and is HEAD; the process dies before closing the parent.
    second = cli(home, "recover", failpoint="drain.after_child_created")
    assert second.returncode == -9, describe(second)
    ok(cli(home, "recover"))

    answers = [
        m["text"]
        for m in head_transcript(home)
        if m.get("role") == "assistant" and str(m.get("text") or "").strip()
    ]
    assert answers, "the model's answer is not in the transcript"
    queued = [e["text"] for e in outbox_entries(home) if e["kind"] == "reply"]
    for text in answers:
        assert queued.count(text) == 1, f"queued {queued.count(text)} times: {text[:60]!r}"
