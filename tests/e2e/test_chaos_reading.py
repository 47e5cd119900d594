"""The chaos audit reads sessions as ``docs/storage.md`` lays them out, and only those."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from chaos_audit import unapproved_effects
from chaos_governance_audit import stopped_by_kill_switch
from chaos_reading import batch_waits, load_sessions
from chaos_tools import tools_config
from signoff_e2e_kit import session_states


def test_a_half_built_session_a_kill_left_in_staging_is_not_a_session(tmp_path: Path) -> None:
    """A kill while a session was built leaves ``sessions/.staging/<id>-<random>/``, maybe
    without its ``session.json``: never visible, removed by a later start. The audit took
    it for a session (a glob's ``*`` matches ``.staging``) and failed on reading it."""
    sessions = tmp_path / "sessions"
    kept = sessions / "3f" / "sess_3f0000000001"
    kept.mkdir(parents=True)
    (kept / "session.json").write_text(json.dumps({"id": kept.name, "state": "completed"}))
    (kept / "transcript.jsonl").write_text("")
    (sessions / ".staging" / "sess_ab0000000002-0123abcd").mkdir(parents=True)
    assert list(load_sessions(tmp_path)) == [kept.name]
    assert session_states(tmp_path) == {kept.name: "completed"}


def test_every_start_of_a_real_tool_counts_by_approval_id(tmp_path: Path) -> None:
    """A rerun shows as a second start, a call run without an approval under "", a start
    whose end a kill cut off still counts, and a record line cut short does not."""
    _, effects = tools_config(tmp_path)
    assert effects.starts() == Counter()  # nothing ran yet: no files
    effects.ledger.write_text(
        "start appr_1 n1\nend appr_1 n1\nstart appr_2 n2\nstart appr_1 n1\nstart - n3\n"
    )
    calls = [
        {"tool": "restart_deployment", "approval_id": "appr_2"},
        {"tool": "get_pods", "approval_id": ""},
        {"tool": "restart_deployment", "approval_id": ""},
    ]
    lines = [json.dumps(c) for c in calls]
    effects.mcp_record.write_text("\n".join(lines) + '\n{"tool": "restart_dep')
    assert effects.starts() == Counter({"appr_1": 2, "appr_2": 2, "": 2})


def test_an_effect_without_an_approval_id_is_unapproved(tmp_path: Path) -> None:
    """A start with no approval id ("") is flagged: as a path it named the approvals
    directory itself, which exists, so it passed as approved."""
    aid = "appr_0123456789abcdef"
    (tmp_path / "approvals" / aid[5:7]).mkdir(parents=True)
    (tmp_path / "approvals" / aid[5:7] / aid).write_text("{}")
    effects = Counter({aid: 1, "": 1, "appr_fedcba9876543210": 1})
    assert unapproved_effects(tmp_path, effects) == [
        "effect '' has no approval",
        "effect 'appr_fedcba9876543210' has no approval",
    ]


def test_a_decision_waits_untold_only_while_a_call_of_its_model_turn_is_undecided(
    tmp_path: Path,
) -> None:
    """Two gated calls asked in one turn: the turn resumes, and the thread hears either
    outcome, once both are decided. A denial beside an undecided call was flagged as
    never told (seed 11223), though that is the design."""
    batch = ["appr_aaaaaaaaaaaaaaaa", "appr_bbbbbbbbbbbbbbbb"]
    capsule = {"id": batch[0], "batch": batch}
    (tmp_path / f"{batch[0]}.decision.json").write_text("{}")
    assert batch_waits(tmp_path, capsule)
    (tmp_path / f"{batch[1]}.decision.json").write_text("{}")
    assert not batch_waits(tmp_path, capsule)
    assert not batch_waits(tmp_path, {"id": batch[0], "batch": [batch[0]]})  # alone


def _session(home: Path, sid: str, state: str, reason: str, lines: list[Any]) -> None:
    directory = home / "sessions" / sid[5:7] / sid
    directory.mkdir(parents=True)
    record = {"id": sid, "state": state, "transitions": [{"state": state, "reason": reason}]}
    (directory / "session.json").write_text(json.dumps(record))
    (directory / "transcript.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))


def test_a_message_whose_recovered_turn_the_kill_switch_cut_counts_as_stopped(
    tmp_path: Path,
) -> None:
    """A kill cut the turn that took a message in; recovery's child, which continues the
    parent's lines by reference, ended on the kill switch (the thread is told so). Its own
    file holds only the reference, so the audit called the message unanswered (governance
    chaos seed 30235, 600 s). Messages answered before it are not counted as stopped."""
    answered = {"role": "user", "ts": "1.000001", "text": "first"}
    reply = {"role": "assistant", "text": "done"}
    cut = {"role": "user", "ts": "2.000002", "text": "call ledger"}
    parent, child = "sess_2c0000000001", "sess_210000000002"
    _session(tmp_path, parent, "failed", "crashed", [answered, reply, cut])
    ref = {"continues": {"lines": 3, "session": parent, "sha256": "x"}, "schema_version": 1}
    _session(tmp_path, child, "cancelled", "kill switch", [ref])
    assert stopped_by_kill_switch(tmp_path) == {"2.000002"}
