"""Kill the process (SIGKILL) at every named failpoint, restart, and check what is left.

Each scenario runs the real CLI, one process per command (forked from a pre-imported
interpreter, see ``helpers_proc``), with ``SIGNOFF_FAILPOINT`` set on the one step that
crashes, then does what the real world does next: Slack redelivers a message
that was never acked (``ingest.*``), the bot restarts and runs start-up recovery
(``signoff recover``), and a person may click again. Then:

* ``test_crash_leaves_invariants``: (a) every sent message is in the final transcript
  exactly once and the inbox is drained, (b) no side effect ran twice, (c) every session
  is terminal and ``signoff verify`` passes.
* ``test_crash_outcome``: (d) what the design promises for that point (uncertain calls are
  reported and never re-run, recorded results are reused, pending approvals stay pending
  and can still be approved, replies are not lost).
* ``test_crash_finishes_the_decided_request``: a decided request is told to the model and
  recorded as told, so it is not unfinished work forever.

Scenarios are independent directories, so they run in a small thread pool (each thread
only waits on subprocesses); the tests then read the results.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers_proc import (
    THREAD_TS,
    all_approval_ids,
    approvals_dir_of,
    assert_healthy,
    cli,
    close_fork_servers,
    decide,
    describe,
    fleet,
    head_transcript,
    ok,
    outbox_entries,
    pending_ids,
    restarts,
    say,
    session_ids,
    thread_dir,
    tickets,
    tool_calls,
    tool_starts,
)

from agent_core.audit import audit_records
from sessions import Home
from sessions.failpoints import POINTS

REPO = Path(__file__).resolve().parent.parent
STATUS = "<@U0BOT> status of api"
RESTART = "<@U0BOT> restart api"


@dataclass(frozen=True)
class Spec:
    """One crash scenario: where to crash, and on which path."""

    point: str
    # plain: "status of api" (non-gated); gated: "restart api" crashing in `say`;
    # approved: "restart api" asked normally, crashing in `approve` (the child that runs it)
    # recovered: "status of api" crashing once in `say`, then in the `recover` that continues it
    path: str

    @property
    def id(self) -> str:
        if self.path == "approved" and not self.point.startswith(("decision.", "resume.")):
            return f"approved-{self.point}"
        return self.point


SPECS = [
    Spec("ingest.after_tmp_write", "plain"),
    Spec("ingest.after_link", "plain"),
    Spec("drain.after_session_created", "plain"),
    Spec("drain.after_child_created", "plain"),
    Spec("recovery.after_close", "recovered"),
    Spec("drain.after_message_recorded", "plain"),
    Spec("inbox.after_taken", "plain"),
    Spec("loop.after_assistant_recorded", "plain"),
    Spec("executor.after_intent", "plain"),
    Spec("executor.after_tool_call", "plain"),
    Spec("gate.after_capsule", "gated"),
    Spec("gate.after_park", "gated"),
    Spec("decision.after_decision_file", "approved"),
    Spec("resume.after_claim", "approved"),
    Spec("resume.after_tool_run", "approved"),
    Spec("resume.after_result_record", "approved"),
    Spec("resume.after_told_record", "approved"),
    Spec("loop.before_finish", "plain"),
    # The same points met while an *approved* call runs in the decision's child session.
    Spec("executor.after_intent", "approved"),
    Spec("executor.after_tool_call", "approved"),
    Spec("loop.after_assistant_recorded", "approved"),
]


def _params(which: str) -> list[Any]:
    return [pytest.param(spec, id=spec.id) for spec in SPECS]


@dataclass
class Run:
    spec: Spec
    home: Path
    killed: Any  # the CompletedProcess of the step that was killed
    sent: list[str]
    outputs: list[str] = field(default_factory=list)
    approval_id: str = ""
    verified: Any = None  # `signoff verify` after recovery
    pending: list[str] = field(default_factory=list)  # `signoff pending` after recovery

    def said(self) -> str:
        """Everything every process printed: the RecordingSurface echoes replies and cards."""
        return "\n".join(self.outputs)


def run_scenario(spec: Spec, root: Path) -> Run:
    home = root / "home"
    text = RESTART if spec.path in ("gated", "approved") else STATUS
    outputs: list[str] = []
    approval_id = ""
    if spec.path == "recovered":
        first = say(home, text, ts=THREAD_TS, failpoint="loop.after_assistant_recorded")
        assert first.returncode == -9, describe(first)
        outputs.append(first.stdout)
        killed = cli(home, "recover", failpoint=spec.point)
    elif spec.path == "approved":
        outputs.append(ok(say(home, text, ts=THREAD_TS)).stdout)
        ids = pending_ids(home)
        assert len(ids) == 1, ids
        approval_id = ids[0]
        killed = decide(home, "approve", approval_id, "U0BOB", failpoint=spec.point)
    else:
        killed = say(home, text, ts=THREAD_TS, failpoint=spec.point)
    outputs.append(killed.stdout)
    if spec.point.startswith("ingest."):
        # Never acked, so Slack delivers the same message (same ts) again.
        outputs.append(ok(say(home, text, ts=THREAD_TS)).stdout)
    outputs.append(ok(cli(home, "recover")).stdout)
    if spec.point == "inbox.after_taken":
        # Acked, then taken: Slack delivering it again (the ack lost) changes nothing.
        outputs.append(ok(say(home, text, ts=THREAD_TS)).stdout)
    if not approval_id:
        ids = all_approval_ids(home)
        approval_id = ids[0] if ids else ""
    verified = cli(home, "verify")
    return Run(spec, home, killed, [THREAD_TS], outputs, approval_id, verified, pending_ids(home))


@pytest.fixture(scope="module", autouse=True)
def _fork_servers() -> Iterator[None]:
    yield
    close_fork_servers()


class Scenarios:
    """Runs the selected scenarios in a few threads, as soon as the first one is needed."""

    def __init__(self, root: Path, specs: list[Spec]) -> None:
        self._pool = ThreadPoolExecutor(max_workers=3)
        self._futures: dict[Spec, Future[Run]] = {
            spec: self._pool.submit(run_scenario, spec, root / f"s{n}")
            for n, spec in enumerate(specs)
        }

    def get(self, spec: Spec) -> Run:
        return self._futures[spec].result(timeout=300)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="module")
def scenarios(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, _fork_servers: None
) -> Iterator[Scenarios]:
    """Starts every selected scenario at once; each test then waits for its own."""
    selected: list[Spec] = []
    for item in request.session.items:
        spec = getattr(item, "callspec", None) and cast(pytest.Function, item).callspec.params.get(
            "spec"
        )
        if isinstance(spec, Spec) and spec not in selected:
            selected.append(spec)
    runner = Scenarios(tmp_path_factory.mktemp("crash"), selected)
    yield runner
    runner.close()


@pytest.fixture
def run(scenarios: Scenarios, request: pytest.FixtureRequest) -> Run:
    spec: Spec = request.node.callspec.params["spec"]
    return scenarios.get(spec)


def private_copy(run: Run, tmp_path: Path) -> Path:
    """A copy of the scenario's home for steps that change it (the original is shared)."""
    home = tmp_path / "home"
    shutil.copytree(run.home, home)
    return home


# (a) (b) (c) ------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", _params("invariants"))
def test_crash_leaves_invariants(spec: Spec, run: Run) -> None:
    assert run.killed.returncode == -9, describe(run.killed)
    assert run.verified.returncode == 0, describe(run.verified)
    assert_healthy(run.home, run.sent, verify=False)


# (d) --------------------------------------------------------------------------------------
def the_result(home: Path, call_id: str) -> dict[str, Any]:
    """The one tool-result record for ``call_id`` in the final transcript."""
    results = [
        m for m in head_transcript(home) if m.get("role") == "tool" and m["call_id"] == call_id
    ]
    assert len(results) == 1, f"{len(results)} results for {call_id}: {results}"
    return results[0]


def only_call(home: Path, name: str) -> str:
    calls = [c for c in tool_calls(home) if c["name"] == name]
    assert len(calls) == 1, calls
    return str(calls[0]["id"])


def no_reply_lost(run: Run, home: Path) -> None:
    """Every answer the model gave is in the outbox (queued for Slack or sent), once."""
    queued = [e["text"] for e in outbox_entries(home) if e["kind"] == "reply"]
    for message in head_transcript(home):
        text = (message.get("text") or "").strip() if message.get("role") == "assistant" else ""
        if text:
            assert queued.count(text) == 1, f"queued {queued.count(text)} times: {text!r}"


def plain_ran_once(run: Run) -> None:
    call = only_call(run.home, "service_status")
    assert the_result(run.home, call)["status"] == "ok"
    assert tool_starts(run.home, "service_status") == 1


def plain_uncertain(starts: int) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        call = only_call(run.home, "service_status")
        result = the_result(run.home, call)
        assert result["status"] == "uncertain", result
        assert tool_starts(run.home, "service_status") == starts  # never re-run
        results = [t for s in session_ids(run.home) for t in tickets(run.home, s)]
        assert not [t for t in results if t["kind"] == "result"], "a result out of nowhere"

    return check


def approved_result(status: str, ran: int) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        call = only_call(run.home, "restart_service")
        result = the_result(run.home, call)
        assert result["status"] == status, result
        assert result.get("approval_id") in ("", None, run.approval_id)
        assert restarts(run.home) == ran
        assert tool_starts(run.home, "restart_service") == ran  # started at most once, ever
        keys = [e["key"] for e in _history(run.home)]
        assert keys == ([run.approval_id] if ran else [])
        recorded = approvals_dir_of(run.home, run.approval_id) / f"{run.approval_id}.result.json"
        if status == "uncertain":
            # How the call ended is on disk, so the card says it too, not only the thread.
            assert json.loads(recorded.read_text())["uncertain"] is True

    return check


def _history(home: Path) -> list[dict[str, Any]]:
    return list(fleet(home)["history"])


def still_pending_then_approvable(run: Run, tmp_path: Path) -> None:
    home = run.home
    approval_id = run.approval_id
    assert approval_id, "no capsule was written"
    assert run.pending == [approval_id], "the approval is not pending after recovery"
    # Without Slack the CLI queues the card for the bot and records none as posted.
    cards = [e for e in outbox_entries(home) if e.get("approval_id") == approval_id]
    assert cards, "the card was never queued: nobody is asked"
    card = approvals_dir_of(home, approval_id) / f"{approval_id}.card.json"
    assert not card.exists()
    assert restarts(home) == 0
    # The card still works: Bob approves, the exact call runs once.
    home = private_copy(run, tmp_path)
    approved = decide(home, "approve", approval_id, "U0BOB")
    assert approved.returncode == 0, describe(approved)
    assert approved.stdout.splitlines()[0] == "approved by U0BOB"  # the thread's echo after
    assert restarts(home) == 1
    assert [e["key"] for e in _history(home)] == [approval_id]
    assert tool_starts(home, "restart_service") == 1
    assert pending_ids(home) == []
    assert_healthy(home, run.sent)


def decided_then_ran(run: Run, tmp_path: Path) -> None:
    approved_result("ok", 1)(run)
    # Bob, seeing no reaction before the crash, clicks again: nothing runs twice.
    home = private_copy(run, tmp_path)
    again = decide(home, "approve", run.approval_id, "U0BOB")
    assert again.returncode == 1, describe(again)
    assert "already decided: approved by U0BOB" in again.stdout
    assert restarts(home) == 1
    assert tool_starts(home, "restart_service") == 1
    assert_healthy(home, run.sent)


def _with_tmp(check: Callable[[Run], None]) -> Callable[[Run, Path], None]:
    return lambda run, _tmp: check(run)


OUTCOMES: dict[str, Callable[[Run, Path], None]] = {
    "ingest.after_tmp_write": _with_tmp(plain_ran_once),
    "ingest.after_link": _with_tmp(plain_ran_once),
    "drain.after_session_created": _with_tmp(plain_ran_once),
    "drain.after_child_created": _with_tmp(plain_ran_once),
    # Crashed after the model asked for the call, then again while continuing it.
    "recovery.after_close": _with_tmp(plain_ran_once),
    "drain.after_message_recorded": _with_tmp(plain_ran_once),
    # Taken and still in new/: taken again, not recorded twice; Slack's copy refused.
    "inbox.after_taken": _with_tmp(plain_ran_once),
    # The call was recorded but never started: recovery runs it (triaged as new).
    "loop.after_assistant_recorded": _with_tmp(plain_ran_once),
    "executor.after_intent": _with_tmp(plain_uncertain(starts=0)),
    "executor.after_tool_call": _with_tmp(plain_uncertain(starts=1)),
    "gate.after_capsule": still_pending_then_approvable,
    "gate.after_park": still_pending_then_approvable,
    "decision.after_decision_file": decided_then_ran,
    # Claimed, no intent ticket (synced before every tool call): it did not run, and the
    # thread and card say so (not "uncertain"); it is not re-run either.
    "resume.after_claim": _with_tmp(approved_result("error", 0)),
    # The tool ran and its intent has a result ticket: that result is reported, not re-run.
    "resume.after_tool_run": _with_tmp(approved_result("ok", 1)),
    "resume.after_result_record": _with_tmp(approved_result("ok", 1)),
    # Told, its records not sealed yet: recovery tells it again, which seals them.
    "resume.after_told_record": _with_tmp(approved_result("ok", 1)),
    "loop.before_finish": _with_tmp(plain_ran_once),
    "approved-executor.after_intent": _with_tmp(approved_result("uncertain", 0)),
    "approved-executor.after_tool_call": _with_tmp(approved_result("uncertain", 1)),
    "approved-loop.after_assistant_recorded": _with_tmp(approved_result("ok", 1)),
}


@pytest.mark.parametrize("spec", _params("outcome"))
def test_crash_outcome(spec: Spec, run: Run, tmp_path: Path) -> None:
    assert run.killed.returncode == -9, describe(run.killed)
    OUTCOMES[spec.id](run, tmp_path)
    no_reply_lost(run, run.home)


def _told_params() -> list[Any]:
    return [pytest.param(spec, id=spec.id) for spec in SPECS if spec.path == "approved"]


@pytest.mark.parametrize("spec", _told_params())
def test_crash_finishes_the_decided_request(spec: Spec, run: Run) -> None:
    """After recovery the decided request is finished: its outcome was told to the model.

    A request left decided-but-untold is unfinished work that every start-up comes back to.
    """
    assert run.killed.returncode == -9, describe(run.killed)
    told = approvals_dir_of(run.home, run.approval_id) / f"{run.approval_id}.told.json"
    assert told.exists(), "the outcome never reached the model (or was not recorded as told)"
    # And its records are sealed: the audit trusts them, whatever crashed where.
    (record,) = audit_records(Home(run.home))
    assert record.records_seal == "ok" and not record.flagged, record
    # And it says what is true of the call: it read "ran: uncertain" for a call claimed
    # by a process killed before it started it (its intent ticket never written).
    assert record.outcome == AUDIT_OUTCOMES[spec.id], record


AUDIT_OUTCOMES = {
    "decision.after_decision_file": "ran: ok",
    "resume.after_claim": "claimed, not started",
    "resume.after_tool_run": "ran: ok",
    "resume.after_result_record": "ran: ok",
    "resume.after_told_record": "ran: ok",
    # Its intent was written: whether the tool then acted is not known (it did not here).
    "approved-executor.after_intent": "started, outcome uncertain",
    "approved-executor.after_tool_call": "started, outcome uncertain",
    "approved-loop.after_assistant_recorded": "ran: ok",
}


# Reached only through Slack: tests/test_lifecycle_regressions.py (test_5) kills at the card's
# post with LocalSlack and checks that no second card is posted; tests/e2e/
# test_e2e_forms_crash.py kills as a form is used up and submits it again.
SLACK_ONLY = {"card.after_post", "form.after_taken"}


def test_every_scenario_has_an_outcome_check() -> None:
    assert sorted(OUTCOMES) == sorted(s.id for s in SPECS)
    assert {s.point for s in SPECS} | SLACK_ONLY == set(POINTS)


# the failpoints themselves ----------------------------------------------------------------
def test_every_failpoint_is_reachable_in_the_source() -> None:
    calls: dict[str, list[str]] = {}
    pattern = re.compile(r"""failpoint\(\s*["']([\w.]+)["']\s*\)""")
    for package in ("sessions", "agent_core", "approvals", "bot"):
        for path in sorted((REPO / package).rglob("*.py")):
            for name in pattern.findall(path.read_text()):
                calls.setdefault(name, []).append(str(path.relative_to(REPO)))
    assert len(POINTS) == len(set(POINTS)) == 20
    missing = [p for p in POINTS if p not in calls]
    assert not missing, f"failpoints named in POINTS but never called: {missing}"
    unknown = sorted(set(calls) - set(POINTS))
    assert not unknown, f"failpoint() calls with names missing from POINTS: {unknown}"
    twice = {name: where for name, where in calls.items() if len(where) > 1}
    assert not twice, f"a failpoint name is used at several places: {twice}"


def test_failpoint_kills_only_when_named(tmp_path: Path) -> None:
    """Unset (or naming another point) the process runs normally; named, it dies by SIGKILL."""
    home = tmp_path / "home"
    other = say(home, STATUS, ts=THREAD_TS, failpoint="gate.after_capsule")  # not on this path
    assert other.returncode == 0, describe(other)
    for fresh in (False, True):  # a forked child and a brand-new interpreter alike
        ts = f"1700000000.00020{int(fresh)}"
        killed = say(home, STATUS, ts=ts, failpoint="ingest.after_tmp_write", fresh=fresh)
        assert killed.returncode == -9, describe(killed)
    new = os.listdir(thread_dir(home, THREAD_TS) / "inbox" / "new")
    assert [n for n in new if not n.startswith(".")] == []  # the kills' copies were staged only


def test_stale_inbox_tmp_leftovers_are_dropped(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert say(home, STATUS, ts=THREAD_TS, failpoint="ingest.after_tmp_write").returncode == -9
    new_dir = thread_dir(home, THREAD_TS) / "inbox" / "new"
    staged = [n for n in os.listdir(new_dir) if n.startswith(".")]
    assert staged, "the crash left no staged copy in new/ (scenario changed)"
    # A day later (so that any grace period for a writer still busy is long over) the
    # thread gets a new message and the bot restarts.
    later = "2099-01-02T00:00:00Z"
    ok(say(home, STATUS, ts="1700000000.000300", frozen=later))
    ok(cli(home, "recover", frozen=later))
    assert not [n for n in os.listdir(new_dir) if n.startswith(".")]
