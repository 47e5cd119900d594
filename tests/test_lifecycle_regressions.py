"""Regressions of the crash-safety issue: each test failed on the code before the fix.

1. an approved call never ran after a kill between closing a crashed session and continuing it;
2. concurrent index writes reset a shared SQLite statement, and a dead worker stranded work
   (here too: the periodic sweep wakes a thread whose wake-up was lost, which the old sweep
   never did);
3. a reply that failed to post was lost;
4. decided cards kept live buttons (a kill after the decision; a decision from a terminal),
   and under the kill switch such a kill left the thread without its "it waits";
5. a kill between posting a card and recording it posted a second card;
6. a kill between creating a session and moving HEAD left it in ``created`` forever;
7. an approved call waited for its card's ``chat.update``;
8. recovery ignored pending approvals beyond 100,000.

The crash cases run the real CLI in processes that SIGKILL themselves at a named point
(``helpers_proc``); the Slack cases run against LocalSlack, through the real SDKs.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "e2e"))

from helpers_proc import (
    THREAD_TS,
    all_approval_ids,
    assert_healthy,
    cli,
    close_fork_servers,
    decide,
    describe,
    ok,
    restarts,
    say,
    say_args,
)
from signoff_e2e_kit import approval_id_of, bot_messages, cards, has_buttons, until

from localslack import LocalSlack, WorkspaceConfig
from sessions import ApprovalRow, Home, Index, SessionRecord, SessionState, ThreadKey, Transition

STATUS = "<@U0BOT> status of api"
RESTART = "<@U0BOT> restart api"
LOST_WAKE = "ingest.after_link"  # stored and marked, nobody woken


@pytest.fixture(scope="module", autouse=True)
def _fork_servers() -> Iterator[None]:
    yield
    close_fork_servers()


def killed(done: Any) -> None:
    assert done.returncode == -9, describe(done)


# 1 ---------------------------------------------------------------------------------------
def test_1_an_approved_call_runs_after_a_kill_between_closing_and_continuing(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    killed(say(home, RESTART, ts=THREAD_TS, failpoint="gate.after_capsule"))
    killed(cli(home, "recover", failpoint="recovery.after_close"))
    ok(cli(home, "recover"))
    [approval_id] = all_approval_ids(home)
    ok(decide(home, "approve", approval_id, "U0BOB"))
    assert restarts(home) == 1
    assert_healthy(home, [THREAD_TS])


# 2 ---------------------------------------------------------------------------------------
def _session(n: int) -> SessionRecord:
    thread = ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts=f"1700000000.{n:06d}")
    at = "2026-11-02T09:00:00.000Z"
    return SessionRecord(
        id=f"sess_{n:012x}",
        parent_id=None,
        thread=thread,
        state=SessionState.RUNNING,
        created_at=at,
        transitions=(Transition(state=SessionState.RUNNING, at=at),),
    )


def _approval(n: int) -> ApprovalRow:
    return ApprovalRow(
        id=f"appr_{n:016x}",
        session_id=f"sess_{n:012x}",
        thread=_session(n).thread,
        tool="restart_service",
        args_sha256="0" * 64,
        requester="U0ALICE",
        status="pending",
        created_at="2026-11-02T09:00:00.000Z",
        expires_at="2026-11-09T09:00:00.000Z",
    )


# Each round: one write of each kind per thread, all at once. On the old code (a dropped
# cursor reset its statement on the database thread mid-write) a round of 1,200 writes
# failed 0 to 4 times and about one round in three not at all, so one round passed now and
# then; ten rounds failed 8 to 15 times in each of 5 runs, and take under 2 s here.
ROUNDS, THREADS = 10, 400


async def test_2_concurrent_index_writes_never_trip_over_shared_statements(
    tmp_path: Path,
) -> None:
    index = await Index.open(tmp_path / "index.sqlite3")
    try:
        errors: list[BaseException] = []
        for round_ in range(ROUNDS):
            at = f"2026-11-02T09:00:{round_:02d}.000Z"
            work: list[Awaitable[object]] = []
            for n in range(THREADS):
                work.append(index.put_sessions([_session(n)]))
                work.append(index.put_approvals([_approval(n)]))
                work.append(index.put_thread(_session(n).thread, f"head_{round_}", at))
            results = await asyncio.gather(*work, return_exceptions=True)
            errors += [r for r in results if isinstance(r, BaseException)]
        assert errors == [], f"{len(errors)} failed writes, first: {errors[0]!r}"
        counts = await index.counts()
        assert counts["sessions"] == counts["approvals"] == counts["threads"] == THREADS
        # The last round's writes landed: none was dropped without an error.
        heads = {await index.thread_head(_session(n).thread) for n in range(THREADS)}
        assert heads == {f"head_{ROUNDS - 1}"}
    finally:
        await index.close()


async def test_2_a_worker_that_fails_is_retried_and_strands_nothing(
    make_engine: Any, home: Home
) -> None:
    from engine_support import message, replies, user_ts

    engine = await make_engine()
    # Storage fails for a moment: the sessions directory is not a directory.
    sessions = home.sessions_dir
    os.rename(sessions, home.root / "sessions.away")
    sessions.write_text("not a directory")
    await engine.ingest(message("<@U0BOT> status of api", ts="1700000000.000100"))
    await asyncio.sleep(0.2)
    sessions.unlink()
    os.rename(home.root / "sessions.away", sessions)
    await until(lambda: "1700000000.000100" in _try(user_ts, home), timeout=15, what="retry")
    await engine.idle()
    surface = engine_surface(engine)
    await until(lambda: any("api" in r for r in replies(surface)), timeout=10, what="reply")


async def test_2_the_sweep_wakes_a_thread_whose_wake_up_was_lost(
    make_engine: Any, home: Home
) -> None:
    # A terminal's ``say`` is killed right after storing its message: it is in the inbox
    # and the thread marked, but no worker anywhere was woken, and the running engine
    # heard of none of it. Only the periodic sweep finds it.
    from engine_support import replies, user_ts

    engine = await make_engine()
    killed(await asyncio.to_thread(say, home.root, STATUS, ts=THREAD_TS, failpoint=LOST_WAKE))
    await engine.idle()
    surface = engine_surface(engine)
    assert _try(user_ts, home) == [] and replies(surface) == [], "someone took the message"
    await engine.sweep()
    await until(lambda: THREAD_TS in _try(user_ts, home), what="the sweep to wake the thread")
    await engine.idle()
    assert any("api" in r for r in replies(surface)), replies(surface)


def _try(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception:
        return []


def engine_surface(engine: Any) -> Any:
    return engine.delivery.surface


# 3, 4, 5, 7: against LocalSlack ----------------------------------------------------------
def slack_env(slack: LocalSlack) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_APP_TOKEN": slack.app_token,
        "SLACK_API_URL": slack.api_url,
    }


async def run_cli(home: Path, *args: str, **kw: Any) -> Any:
    return await asyncio.to_thread(cli, home, *args, **kw)


async def _asked_in_slack(slack: LocalSlack, home: Path) -> str:
    """Alice asks in #ops; the request is stored from a terminal (no card yet)."""
    ts = await slack.post_message(channel="C0OPS", user="U0ALICE", text=RESTART)
    ok(await run_cli(home, *say_args(RESTART, ts=ts, thread_ts=ts)))
    return ts


async def _carded(slack: LocalSlack, home: Path) -> tuple[dict[str, str], str, dict[str, Any]]:
    """Alice's request, its card posted by a terminal's recovery: (env, thread, card)."""
    env = slack_env(slack)
    thread = await _asked_in_slack(slack, home)
    ok(await run_cli(home, "recover", env=env))
    [card] = cards(slack, thread)
    return env, thread, card


async def _approved_then_killed(home: Path, card: dict[str, Any], env: dict[str, str]) -> None:
    """Bob approves from a terminal that is killed right after the decision file."""
    args = ("approve", approval_id_of(card), "--as", "U0BOB")
    killed(await run_cli(home, *args, env=env, failpoint="decision.after_decision_file"))


async def test_4_a_kill_after_the_decision_does_not_leave_the_card_live(tmp_path: Path) -> None:
    home = tmp_path / "home"
    async with LocalSlack(WorkspaceConfig()) as slack:
        env, thread, card = await _carded(slack, home)
        assert has_buttons(card)
        await _approved_then_killed(home, card, env)
        ok(await run_cli(home, "recover", env=env))
        [card] = cards(slack, thread)
        assert not has_buttons(card), "a decided card still has its buttons"
        assert restarts(home) == 1


async def test_4_under_the_kill_switch_a_kill_after_the_decision_still_tells_the_thread_once(
    tmp_path: Path,
) -> None:
    # The card says Approved and nothing runs: the thread must say why. Only the click's
    # own path said it, so a kill after the decision file left the thread silent for good
    # (as did a quorum the sweep completed); the thread's worker now says it from disk.
    home = tmp_path / "home"
    async with LocalSlack(WorkspaceConfig()) as slack:
        env, thread, card = await _carded(slack, home)
        (home / "KILL").write_text("incident")
        await _approved_then_killed(home, card, env)
        for _ in range(2):  # told once, however often recovery runs
            ok(await run_cli(home, "recover", env=env))
        frozen = bot_messages(slack, thread, "kill switch is on: it waits")
        assert len(frozen) == 1, [m.get("text") for m in bot_messages(slack, thread)]
        assert restarts(home) == 0


async def test_5_a_kill_between_posting_and_recording_a_card_posts_no_second_card(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    async with LocalSlack(WorkspaceConfig()) as slack:
        env = slack_env(slack)
        thread = await _asked_in_slack(slack, home)
        killed(await run_cli(home, "recover", env=env, failpoint="card.after_post"))
        ok(await run_cli(home, "recover", env=env))
        assert len(cards(slack, thread)) == 1
        approval_id = approval_id_of(cards(slack, thread)[0])
        ok(await run_cli(home, "approve", approval_id, "--as", "U0BOB", env=env))
        [card] = cards(slack, thread)
        assert not has_buttons(card)
        assert restarts(home) == 1


# 6 ---------------------------------------------------------------------------------------
def test_6_no_session_stays_created_after_a_kill_before_head_moves(tmp_path: Path) -> None:
    home = tmp_path / "home"
    killed(say(home, STATUS, ts=THREAD_TS, failpoint="drain.after_session_created"))
    ok(cli(home, "recover"))
    assert_healthy(home, [THREAD_TS])


# 8 ---------------------------------------------------------------------------------------
async def test_8_recovery_finishes_a_decision_behind_100k_pending_approvals(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    async with LocalSlack(WorkspaceConfig()) as slack:
        env = slack_env(slack)
        thread = await _asked_in_slack(slack, home)
        ok(await run_cli(home, "recover", env=env))  # the card is posted
        approval_id = approval_id_of(cards(slack, thread)[0])
        index = await Index.open(home / "index.sqlite3")
        try:
            await index.put_approvals(
                ApprovalRow(
                    id=f"appr_{n:016x}",
                    session_id=f"sess_{n:012x}",
                    thread=ThreadKey(team="T0LOCAL", channel="C0FILL", thread_ts="1600000000.1"),
                    tool="restart_service",
                    args_sha256="0" * 64,
                    requester="U0ALICE",
                    status="pending",
                    created_at="2000-01-01T00:00:00.000Z",  # older: listed first
                    expires_at="2099-01-01T00:00:00.000Z",
                    card_channel="C0FILL",
                    card_ts="1600000000.000001",
                )
                for n in range(100_001)
            )
        finally:
            await index.close()
        done = await run_cli(
            home,
            "approve",
            approval_id,
            "--as",
            "U0BOB",
            env=env,
            failpoint="decision.after_decision_file",
        )
        killed(done)
        ok(await run_cli(home, "recover", env=env))
        assert restarts(home) == 1
