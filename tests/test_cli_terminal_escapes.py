"""What a tampered home holds reaches an operator's terminal as text, never as the escape
sequences a terminal acts on (a window title set, the screen cleared, a line rewritten)."""

from __future__ import annotations

import json
from pathlib import Path

from test_cli_corrupt_records import _asked
from test_cli_errors import env_for, signoff

from sessions import FixedClock, Home, Quarantine

HOSTILE = "x\x1b]0;PWN\x07\x1b[2J\r\u202eZ"


def _inert(out: str) -> None:
    assert not any(c in out for c in "\x1b\x07\r\u202e"), repr(out)


def test_verify_names_a_file_added_after_the_seal_as_text(tmp_path: Path) -> None:
    # verify said "added after seal: <name>" with the name as it is on disk: a file put in
    # a sealed session under a name made of escapes drove the terminal of whoever checked.
    home, env = _asked(tmp_path)
    (session,) = home.glob("sessions/*/sess_*")
    (session / HOSTILE).write_text("")
    for args in (["verify"], ["verify", session.name]):
        done = signoff(*args, env=env)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        _inert(done.stdout + done.stderr)
        assert "added after seal: x\\x1b]0;PWN\\x07" in done.stdout, done.stdout


def test_show_prints_a_tool_results_status_as_text(tmp_path: Path) -> None:
    # show escaped a tool result's name and content but printed its status as it was:
    # "tool result restart_service (ok):" with "ok" changed to escapes drove the terminal.
    home, env = _asked(tmp_path)
    (pointer,) = home.glob("approvals/*/appr_*")
    done = signoff("approve", pointer.name, "--as", "U0BOB", env=env)
    assert done.returncode == 0, done.stderr
    (transcript,) = [
        t
        for t in home.glob("sessions/*/sess_*/transcript.jsonl")
        if '"role":"tool"' in t.read_text()
    ]
    lines = transcript.read_text().splitlines()
    at = next(n for n, line in enumerate(lines) if '"role":"tool"' in line)
    record = json.loads(lines[at])
    record["status"] = HOSTILE
    lines[at] = json.dumps(record)
    transcript.write_text("\n".join(lines) + "\n")

    shown = signoff("show", transcript.parent.name, env=env)
    assert shown.returncode == 0, shown.stderr
    _inert(shown.stdout + shown.stderr)
    assert "tool result restart_service (x\\x1b]0;PWN\\x07" in shown.stdout, shown.stdout


def test_quarantine_lists_a_tampered_records_id_and_time_as_text(tmp_path: Path) -> None:
    # The listing escaped a record's source, event id and reason, but printed its id and
    # its time as the file had them: either made of escapes drove the terminal.
    home = Home(tmp_path / "home")
    home.ensure()
    kept = Quarantine(home, clock=FixedClock()).put(
        source="events_api", reason="not JSON", payload={"a": 1}, event_id="Ev1"
    )
    assert kept is not None
    (path,) = home.quarantine_dir.glob(f"*/*{kept.id}.json")
    record = json.loads(path.read_text())
    record["id"], record["at"] = HOSTILE, HOSTILE
    path.write_text(json.dumps(record))

    listing = signoff("quarantine", env=env_for(home.root))
    assert listing.returncode == 0, (listing.stdout, listing.stderr)
    _inert(listing.stdout + listing.stderr)
    assert "x\\x1b]0;PWN\\x07" in listing.stdout, listing.stdout
