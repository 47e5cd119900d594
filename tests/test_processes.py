"""Several real ``signoff`` processes sharing one SIGNOFF_HOME, with nothing in memory.

A request asked in one process is decided days later by another (freezegun moves the
clock of that process only); a request nobody decided in time expires; several clickers
in separate processes race for the same card and exactly one verdict wins; two bot
replicas receive messages of the same thread at the same moment.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers_proc import (
    TERMINAL,
    THREAD_TS,
    approvals_dir_of,
    assert_healthy,
    capsule,
    cli,
    close_fork_servers,
    decide,
    decision,
    describe,
    fleet,
    head_id,
    head_transcript,
    lineage,
    ok,
    pending_ids,
    race,
    release_together,
    restarts,
    say,
    say_args,
    session_ids,
    session_record,
    thread_dir,
    tickets,
    tool_starts,
)

from sessions import Home

T0 = "2026-11-22T10:00:00Z"
T_PLUS_2D = "2026-11-24T10:00:00Z"
T_PLUS_3D = "2026-11-25T10:00:00Z"
T_PLUS_3D_1H = "2026-11-25T11:00:00Z"
ASK = "<@U0BOT> restart api"


@pytest.fixture(scope="module", autouse=True)
def _fork_servers() -> Iterator[None]:
    yield
    close_fork_servers()


def expected_hash(tool: str, arguments: dict[str, object]) -> str:
    """The call hash, computed independently of the product's helper."""
    text = json.dumps(
        {"tool": tool, "arguments": arguments},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def week_policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text('[default]\nexpires_after = "7d"\n')
    return path


def ask_restart(
    home: Path, *, frozen: str | None = None, policy: Path | None = None, fresh: bool = False
) -> str:
    """Process A: Alice asks for a restart; returns the approval id it waits on."""
    ok(say(home, ASK, ts=THREAD_TS, frozen=frozen, policy=policy, fresh=fresh))
    ids = pending_ids(home, frozen=frozen)
    assert len(ids) == 1, ids
    return ids[0]


def decision_line(text: str) -> str:
    """What the command said of its decision: its own line, not the thread's echo below
    it (indented), which may follow once the turn after the decision ran."""
    lines = [line for line in text.splitlines() if line.strip() and not line[0].isspace()]
    return lines[0] if lines else ""


# one process asks, another decides days later -------------------------------------------
def test_decision_by_another_process_days_later_runs_the_exact_call_once(
    home: Path, week_policy: Path
) -> None:
    # A and B are brand-new interpreters (not forks of a common parent): nothing shared.
    approval_id = ask_restart(home, frozen=T0, policy=week_policy, fresh=True)
    asked = capsule(home, approval_id)
    requesting_session = asked["session_id"]
    assert session_record(home, requesting_session)["state"] == "awaiting_approval"
    assert restarts(home) == 0

    # Alice may not approve her own request, days later or not.
    refused = decide(home, "approve", approval_id, "U0ALICE", frozen=T_PLUS_3D, policy=week_policy)
    assert refused.returncode == 1, describe(refused)
    assert decision_line(refused.stdout).startswith("refused:")
    assert decision(home, approval_id) is None

    decided = decide(
        home, "approve", approval_id, "U0BOB", frozen=T_PLUS_3D, policy=week_policy, fresh=True
    )
    assert decided.returncode == 0, describe(decided)
    assert decision_line(decided.stdout) == "approved by U0BOB"

    # The fleet changed once, keyed by the approval id.
    data = fleet(home)
    assert data["services"]["api"]["restarts"] == 1
    assert [e["key"] for e in data["history"]] == [approval_id]
    entry = data["history"][0]
    assert entry["action"] == "restart"
    assert entry["service"] == "api"
    assert entry["requested_by"] == "U0ALICE"
    assert entry["at"].startswith("2026-11-25T10:00:00")

    # What ran is exactly what was asked: the capsule's hash, the decision's, the result's.
    digest = expected_hash("restart_service", {"service": "api"})
    assert asked["tool"] == "restart_service"
    assert asked["arguments"] == {"service": "api"}
    assert asked["args_sha256"] == digest
    assert asked["requester"] == "U0ALICE"
    assert asked["created_at"].startswith("2026-11-22T10:00:00")
    assert asked["expires_at"].startswith("2026-11-29T10:00:00")
    verdict = decision(home, approval_id)
    assert verdict is not None
    assert verdict["verdict"] == "approved"
    assert verdict["deciders"] == ["U0BOB"]
    assert verdict["args_sha256"] == digest
    assert verdict["at"].startswith("2026-11-25T10:00:00")

    # The child session of the thread ran it, with an intent and a result around it.
    chain = lineage(home)
    assert chain[0] == requesting_session
    assert len(chain) == 2, chain
    child = chain[-1]
    record = session_record(home, child)
    assert record["parent_id"] == requesting_session
    assert record["cause"] == "decision"
    assert record["state"] == "completed"
    assert entry["session"] == child
    kinds = [(t["kind"], t.get("approval_id", "")) for t in tickets(home, child)]
    assert ("intent", approval_id) in kinds
    assert [k for k, _ in kinds].count("intent") == 1
    assert [k for k, _ in kinds].count("result") == 1
    results = [m for m in head_transcript(home) if m.get("role") == "tool"]
    assert len(results) == 1, results
    assert results[0]["status"] == "ok"
    assert results[0]["approval_id"] == approval_id
    assert results[0]["args_sha256"] == digest
    assert tool_starts(home, "restart_service") == 1

    assert ok(cli(home, "verify")).stdout.strip().endswith("0 with problems")
    # The trace, asked for by the session the requester knows, shows the whole lineage.
    shown = ok(cli(home, "trace", requesting_session)).stdout
    assert "2 session(s)" in shown
    assert shown.index(requesting_session) < shown.index(child)
    assert f"{child}  completed  cause=decision" in shown
    assert f"▶ {requesting_session}  awaiting_approval" in shown
    assert f"approval {approval_id}: restart_service" in shown
    assert f"hash {digest[:12]}" in shown
    assert f"{approval_id} approved by U0BOB at 2026-11-25T10:00:00" in shown
    assert "▶ restart_service {'service': 'api'}" in shown
    assert "◀ ok:" in shown
    assert "restarts=1" in shown  # the model's summary of the result

    # A late second click changes nothing.
    late = decide(home, "approve", approval_id, "U0CAROL", frozen=T_PLUS_3D_1H, policy=week_policy)
    assert late.returncode == 1, describe(late)
    assert decision_line(late.stdout).startswith("already decided: approved by U0BOB")
    assert restarts(home) == 1
    assert len(fleet(home)["history"]) == 1
    assert tool_starts(home, "restart_service") == 1
    assert pending_ids(home, frozen=T_PLUS_3D_1H) == []  # before its 7-day deadline
    assert_healthy(home, [THREAD_TS])


def test_decision_with_the_index_deleted_meanwhile(home: Path) -> None:
    """I5/I6: the index is a cache; the deciding process rebuilds what it needs from disk."""
    approval_id = ask_restart(home)
    (home / "index.sqlite3").unlink()
    decided = decide(home, "approve", approval_id, "U0BOB")
    assert decided.returncode == 0, describe(decided)
    assert decision_line(decided.stdout) == "approved by U0BOB"
    assert restarts(home) == 1
    assert [e["key"] for e in fleet(home)["history"]] == [approval_id]
    assert pending_ids(home) == []


def test_decision_after_expiry_does_not_run_the_call(home: Path) -> None:
    approval_id = ask_restart(home, frozen=T0)  # default policy: expires after 24h
    assert capsule(home, approval_id)["expires_at"].startswith("2026-11-23T10:00:00")

    late = decide(home, "approve", approval_id, "U0BOB", frozen=T_PLUS_2D)
    assert late.returncode == 1, describe(late)
    assert decision_line(late.stdout).startswith("already decided: expired by signoff")

    verdict = decision(home, approval_id)
    assert verdict is not None
    assert verdict["verdict"] == "expired"
    assert verdict["deciders"] == ["signoff"]
    assert restarts(home) == 0
    assert fleet(home)["history"] == []
    assert tool_starts(home, "restart_service") == 0
    # The model was told, in a child session, that the call did not run.
    results = [m for m in head_transcript(home) if m.get("role") == "tool"]
    assert [r["status"] for r in results] == ["expired"]
    assert results[0]["approval_id"] == approval_id
    assert pending_ids(home) == []
    assert_healthy(home, [THREAD_TS])

    # Bob trying again is still told it expired; nothing runs.
    again = decide(home, "approve", approval_id, "U0BOB", frozen=T_PLUS_3D)
    assert again.returncode == 1
    assert decision_line(again.stdout).startswith("already decided: expired by signoff")
    assert restarts(home) == 0


def test_restarted_process_expires_due_requests_in_its_sweep(home: Path) -> None:
    approval_id = ask_restart(home, frozen=T0)
    ok(cli(home, "recover", frozen=T_PLUS_2D))
    verdict = decision(home, approval_id)
    assert verdict is not None
    assert verdict["verdict"] == "expired"
    assert restarts(home) == 0
    assert [m["status"] for m in head_transcript(home) if m.get("role") == "tool"] == ["expired"]
    late = decide(home, "approve", approval_id, "U0BOB", frozen=T_PLUS_3D)
    assert late.returncode == 1
    assert "expired" in decision_line(late.stdout)
    assert restarts(home) == 0
    assert_healthy(home, [THREAD_TS])


# clickers racing in separate processes ---------------------------------------------------
APPROVERS = ["U0BOB", "U0CAROL", "U0DAVE", "U0ERIN"]


@pytest.mark.parametrize("n", [2, 4])
def test_simultaneous_approvals_one_wins_and_the_call_runs_once(home: Path, n: int) -> None:
    approval_id = ask_restart(home)
    racers = race(home, approval_id, [("approve", user) for user in APPROVERS[:n]])

    winners = [r for r in racers if r.returncode == 0]
    losers = [r for r in racers if r.returncode != 0]
    report = [(r.user, r.returncode, r.stdout, r.stderr) for r in racers]
    assert len(winners) == 1, report
    winner = winners[0]
    assert decision_line(winner.stdout) == f"approved by {winner.user}", report
    for loser in losers:
        assert loser.returncode == 1, report
        assert decision_line(loser.stdout).startswith(
            f"already decided: approved by {winner.user}"
        ), report
    for r in racers:
        assert "Traceback" not in r.stderr, report

    approvals = approvals_dir_of(home, approval_id)
    assert sorted(p.name for p in approvals.glob("*.decision.json")) == [
        f"{approval_id}.decision.json"
    ]
    verdict = decision(home, approval_id)
    assert verdict is not None
    assert verdict["deciders"] == [winner.user]
    assert restarts(home) == 1
    assert [e["key"] for e in fleet(home)["history"]] == [approval_id]
    assert tool_starts(home, "restart_service") == 1
    assert len(lineage(home)) == 2  # one child ran the decision, whoever woke first
    assert_healthy(home, [THREAD_TS])


@pytest.mark.parametrize(
    "contenders",
    [[("approve", "U0BOB"), ("deny", "U0CAROL")], [("deny", "U0BOB"), ("approve", "U0CAROL")]],
    ids=["approve-first-started", "deny-first-started"],
)
def test_approve_and_deny_racing_exactly_one_verdict_wins(
    home: Path, contenders: list[tuple[str, str]]
) -> None:
    approval_id = ask_restart(home)
    racers = race(home, approval_id, contenders)
    report = [(r.verb, r.user, r.returncode, r.stdout, r.stderr) for r in racers]
    winners = [r for r in racers if r.returncode == 0]
    assert len(winners) == 1, report
    winner = winners[0]
    won = "approved" if winner.verb == "approve" else "denied"
    assert decision_line(winner.stdout) == f"{won} by {winner.user}", report
    loser = next(r for r in racers if r is not winner)
    assert loser.returncode == 1, report
    assert decision_line(loser.stdout).startswith(f"already decided: {won} by {winner.user}"), (
        report
    )

    verdict = decision(home, approval_id)
    assert verdict is not None
    assert verdict["verdict"] == won
    assert len(list(approvals_dir_of(home, approval_id).glob("*.decision.json"))) == 1
    assert restarts(home) == (1 if won == "approved" else 0)
    assert len(fleet(home)["history"]) == (1 if won == "approved" else 0)
    results = [m for m in head_transcript(home) if m.get("role") == "tool"]
    assert [r["status"] for r in results] == ["ok" if won == "approved" else "denied"]
    assert_healthy(home, [THREAD_TS])


# two bot replicas ingesting into the same thread -----------------------------------------
def _say_together(home: Path, jobs: list[tuple[str, str]]) -> list[tuple[int, str, str]]:
    racers = release_together(home, [say_args(text, ts=ts) for ts, text in jobs])
    return [(r.returncode, r.stdout, r.stderr) for r in racers]


def test_two_replicas_ingesting_different_messages_of_one_thread(home: Path) -> None:
    Home(home).ensure()  # reindex makes no home: it indexes one that is there
    ok(cli(home, "reindex"))  # both replicas start with an index (see the test below)
    first, second = THREAD_TS, "1700000000.000200"
    results = _say_together(
        home, [(first, "<@U0BOT> status of api"), (second, "<@U0BOT> status of web")]
    )
    for rc, stdout, stderr in results:
        assert rc == 0, (stdout, stderr)
    ok(cli(home, "recover"))
    assert_healthy(home, [first, second])
    users = [m["ts"] for m in head_transcript(home) if m.get("role") == "user"]
    assert sorted(users) == [first, second]
    # One drain may take both messages (the offline model then answers the last one) or
    # each its own: either way every call ran once and ended ok.
    statuses = [m["status"] for m in head_transcript(home) if m.get("role") == "tool"]
    assert statuses in (["ok"], ["ok", "ok"])
    assert tool_starts(home, "service_status") == len(statuses)
    assert all(session_record(home, s)["state"] in TERMINAL for s in session_ids(home))


def test_same_message_delivered_to_two_replicas_is_processed_once(home: Path) -> None:
    Home(home).ensure()
    ok(cli(home, "reindex"))
    results = _say_together(
        home, [(THREAD_TS, "<@U0BOT> status of api"), (THREAD_TS, "<@U0BOT> status of api")]
    )
    assert [rc for rc, _, _ in results] == [0, 0], results
    duplicates = [out for _, out, _ in results if "(duplicate message ignored)" in out]
    assert len(duplicates) == 1, results
    assert_healthy(home, [THREAD_TS])
    assert tool_starts(home, "service_status") == 1
    taken = (thread_dir(home, THREAD_TS) / "inbox" / "taken.jsonl").read_text().splitlines()
    assert [json.loads(line)["ts"] for line in taken] == [THREAD_TS]
    assert head_id(home) == lineage(home)[-1]


async def test_two_processes_rebuilding_the_index_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two replicas starting together on a home with no index: one rebuilds, one waits.

    Process A's rebuild is paused right after it opened its fresh database; process B
    must wait for A's lock rather than build over it, and then find nothing to do.
    """
    from sessions import Home, Index, reindex

    reindex_module = importlib.import_module("sessions.reindex")

    home = Home(tmp_path / "home")
    home.ensure()
    paused, resume = asyncio.Event(), asyncio.Event()
    opened: list[Path] = []

    class PausingIndex(Index):
        @classmethod
        async def open(cls, path: Path, *, in_use: Path | None = None) -> Index:
            index = await Index.open(path, in_use=in_use)
            opened.append(path)
            if len(opened) == 1:
                paused.set()
                await resume.wait()
            return index

    monkeypatch.setattr(reindex_module, "Index", PausingIndex)
    first = asyncio.create_task(reindex(home, if_missing=True))  # process A
    await paused.wait()
    second = asyncio.create_task(reindex(home, if_missing=True))  # process B
    await asyncio.sleep(0.1)
    assert not second.done()  # B waits on A's lock instead of rebuilding over it
    resume.set()
    assert (await first)["sessions"] == 0
    assert await second == {}  # A built it while B waited: nothing left to do
    assert len(opened) == 1
    index = await Index.open(home.index_path)
    try:
        assert await index.counts()
    finally:
        await index.close()
