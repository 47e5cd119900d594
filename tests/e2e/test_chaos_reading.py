"""The chaos audit reads sessions as ``docs/storage.md`` lays them out, and only those."""

from __future__ import annotations

import json
from pathlib import Path

from chaos_reading import load_sessions
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
