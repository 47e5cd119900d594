"""A record damaged on disk, met by a command after it started: one line on stderr that
names it, never a traceback (the work it stopped stays queued for the next process)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from test_cli_errors import env_for, signoff

from sessions import FixedClock, Home, Outbox, Quarantine


def _asked(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A home where Alice asked for a restart from the terminal, and its environment."""
    home = tmp_path / "home"
    env = env_for(home, SIGNOFF_DEMO="1")
    asked = signoff("say", "--as", "U0ALICE", "--channel", "C0OPS", "restart api", env=env)
    assert asked.returncode == 0, asked.stderr
    return home, env


def _told(tmp_path: Path) -> tuple[dict[str, str], Path, Path]:
    """``_asked``, approved by Bob and told: the environment, the approval's pointer and
    the trace of the session that told the outcome."""
    home, env = _asked(tmp_path)
    (pointer,) = home.glob("approvals/*/appr_*")
    done = signoff("approve", pointer.name, "--as", "U0BOB", env=env)
    assert done.returncode == 0, done.stderr
    (told,) = home.glob(f"sessions/*/sess_*/approvals/{pointer.name}.told.json")
    teller = json.loads(told.read_text())["session_id"]
    (trace,) = home.glob(f"sessions/*/{teller}/trace.jsonl")
    return env, pointer, trace


def test_approving_a_request_whose_session_is_truncated_says_so_in_one_line(
    tmp_path: Path,
) -> None:
    home, env = _asked(tmp_path)
    (approval,) = [p.name for p in home.glob("approvals/*/appr_*")]
    (record,) = home.glob("sessions/*/sess_*/session.json")
    record.write_bytes(record.read_bytes()[:100])

    done = signoff("approve", approval, "--as", "U0BOB", env=env)
    # The decision stands; the thread could not be carried on from the damaged session.
    assert done.stdout.startswith("approved by U0BOB"), done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert str(record) in line and "CorruptRecordError" in line, line


def test_verify_flags_a_session_that_ended_but_whose_seal_was_removed(tmp_path: Path) -> None:
    # Removing MANIFEST.sha256 made an edited transcript pass: `verify` counted the
    # session among those with no problem, and `verify sess_…` called a parked session
    # "not sealed yet (still open)". A session is sealed when it ends, so no seal on one
    # that ended is a problem (as approving its request refuses to run it).
    home, env = _asked(tmp_path)
    (session,) = home.glob("sessions/*/sess_*")
    (session / "MANIFEST.sha256").unlink()
    transcript = session / "transcript.jsonl"
    transcript.write_text(transcript.read_text().replace("restart api", "restart db"))

    for args in (["verify"], ["verify", session.name]):
        done = signoff(*args, env=env)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert f"{session.name}: TAMPERED: " in done.stdout and "MANIFEST.sha256" in done.stdout
        assert "1 with problems" in done.stdout


def _one_flagged_line(env: dict[str, str]) -> str:
    """``signoff audit``'s one line, for the one approval, flagged (exit 1), quickly
    (never waiting on a FIFO) and without a traceback."""
    done = signoff("audit", env=env, timeout=20)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    (line,) = done.stdout.splitlines()
    return line


def test_audit_of_a_record_replaced_by_a_fifo_flags_it_and_never_waits(tmp_path: Path) -> None:
    # A record is read whole: a FIFO by a decision's name had `signoff audit` wait for a
    # writer for ever (and a link to /dev/zero had it read for ever), on the home an
    # auditor runs it on because it may have been tampered with.
    home, env = _asked(tmp_path)
    (capsule,) = home.glob("sessions/*/sess_*/approvals/appr_*.json")
    decision = capsule.with_name(capsule.name.replace(".json", ".decision.json"))
    os.mkfifo(decision)

    line = _one_flagged_line(env)
    assert "not a regular file" in line and decision.name in line, line


@pytest.mark.parametrize("which", ["pointer", "teller_trace"])
def test_audit_of_a_pointer_or_trace_replaced_by_a_fifo_flags_it_and_never_waits(
    tmp_path: Path, which: str
) -> None:
    # Beside its records, the export reads the approval's pointer and the trace of the
    # session that told the outcome: a FIFO by either name had it wait for ever too.
    env, pointer, trace = _told(tmp_path)
    replaced = pointer if which == "pointer" else trace
    replaced.unlink()
    os.mkfifo(replaced)

    line = _one_flagged_line(env)
    assert "not a regular file" in line and str(replaced.name) in line, line


@pytest.mark.parametrize("name", ["transcript.jsonl", "MANIFEST.sha256"])
def test_verify_and_audit_of_a_session_file_replaced_by_a_fifo_flag_it_and_never_wait(
    tmp_path: Path, name: str
) -> None:
    # verify reads a transcript's first line for the session it continues, and the seal
    # itself whole: opened for reading, a FIFO by either name waited for a writer for ever
    # (the seal's in `signoff audit` too), on the home they are run to check.
    home, env = _asked(tmp_path)
    (session,) = home.glob("sessions/*/sess_*")
    (session / name).unlink()
    os.mkfifo(session / name)

    done = signoff("verify", env=env, timeout=20)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert f"{session.name}: TAMPERED: " in done.stdout, done.stdout
    assert name in done.stdout and "not a regular file" in done.stdout, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    line = _one_flagged_line(env)
    assert name in line and "not a regular file" in line, line


@pytest.mark.parametrize("ref", ["../../../../elsewhere.fifo", "payloads/000099-note.json"])
def test_audit_of_a_trace_whose_payload_is_no_file_flags_it_and_never_waits(
    tmp_path: Path, ref: str
) -> None:
    # A trace line names its payload's path: a tampered line named a FIFO (or /dev/zero,
    # read for ever), beside the trace or anywhere, and the export read it to check what
    # the session that told the outcome applied.
    env, _, trace = _told(tmp_path)
    fifo = trace.parent / ref
    fifo.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(fifo)
    lines = [json.loads(line) for line in trace.read_text().splitlines()]
    for line in lines:
        line["payload_ref"] = ref
    trace.write_text("".join(json.dumps(line) + "\n" for line in lines))

    line = _one_flagged_line(env)
    assert "trace.jsonl" in line, line  # the teller's seal no longer holds


@pytest.mark.parametrize("command", ["recover", "say", "approve"])
def test_an_outbox_that_cannot_be_listed_ends_the_command_in_one_line(
    tmp_path: Path, command: str
) -> None:
    # The commands that open the engine read the outbox (to print what they queue) after
    # opening it and outside the block that closes it: the error was said in one line,
    # then the process never exited, the index's thread still open, until it was killed.
    home, env = _asked(tmp_path)
    (pointer,) = home.glob("approvals/*/appr_*")
    pending = home / "outbox" / "pending"
    shutil.rmtree(pending)
    pending.write_text("")
    args = {
        "recover": ["recover"],
        "say": ["say", "--as", "U0ALICE", "--channel", "C0OPS", "status of api"],
        "approve": ["approve", pointer.name, "--as", "U0BOB"],
    }[command]

    done = signoff(*args, env=env, timeout=20)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr == f"signoff: error: Not a directory: {pending}\n", done.stderr


def test_a_fifo_or_directory_by_an_outbox_entrys_name_never_stops_trace_or_recover(
    tmp_path: Path,
) -> None:
    # An entry waiting for Slack was read whole by its name: a FIFO there had `signoff
    # trace` (and `recover`, and a bot's delivery) wait for a writer for ever, and a
    # directory ended `recover` with "Is a directory", every time, on the home it repairs.
    home, env = _asked(tmp_path)
    (session,) = home.glob("sessions/*/sess_*")
    entries = sorted((home / "outbox" / "pending").glob("*.json"))
    assert len(entries) >= 2, entries
    fifo, directory = entries[:2]
    fifo.unlink()
    os.mkfifo(fifo)
    directory.unlink()
    directory.mkdir()

    traced = signoff("trace", session.name, env=env, timeout=20)
    assert traced.returncode == 0, (traced.stdout, traced.stderr)
    assert fifo.exists() and directory.exists()  # a reader only looks
    recovered = signoff("recover", env=env, timeout=20)
    assert recovered.returncode == 0, (recovered.stdout, recovered.stderr)
    assert "Traceback" not in recovered.stderr, recovered.stderr
    # Without Slack's token this recover sends nothing: it is no drainer, and only looks.
    assert fifo.exists() and directory.exists()
    # The drainer sets them aside for a person to look at, as an entry that does not parse.
    outbox = Outbox(Home(home))
    claim = outbox.claim_drainer()
    assert claim is not None
    try:
        outbox.pending()
    finally:
        claim.release()
    assert not fifo.exists() and not directory.exists()
    aside = home / "outbox" / "unreadable"
    assert (aside / fifo.name).is_fifo() and (aside / directory.name).is_dir()


def test_show_of_a_session_whose_parents_transcript_is_a_fifo_says_so_and_never_waits(
    tmp_path: Path,
) -> None:
    # show follows a child's transcript to its parent's, which it read whole by its name:
    # a FIFO there had `signoff show` of the child wait for a writer for ever.
    env, _, trace = _told(tmp_path)
    child = trace.parent
    (parent,) = [s for s in child.parent.parent.glob("*/sess_*") if s != child]
    (parent / "transcript.jsonl").unlink()
    os.mkfifo(parent / "transcript.jsonl")

    done = signoff("show", child.name, env=env, timeout=20)
    assert done.returncode == 2, (done.stdout, done.stderr)
    (line,) = done.stderr.splitlines()
    assert "not a regular file" in line and str(parent / "transcript.jsonl") in line, line


def test_a_fifo_as_a_threads_head_is_no_hint_and_never_waited_on(tmp_path: Path) -> None:
    # A thread's HEAD was read whole by its name: a FIFO there had `signoff trace` of the
    # thread (and every turn in it, and a rebuild of the index) wait for ever. It is no
    # hint, as a HEAD that is a directory or not a session id is: the walk from the
    # thread's first session finds the same sessions.
    home, env = _asked(tmp_path)
    (session,) = home.glob("sessions/*/sess_*")
    (head,) = home.glob("threads/*/*/*/*/HEAD")
    head.unlink()
    os.mkfifo(head)

    traced = signoff("trace", session.name, env=env, timeout=20)
    assert traced.returncode == 0, (traced.stdout, traced.stderr)
    assert session.name in traced.stdout
    assert "not a session id, walked from the first session" in traced.stderr, traced.stderr
    rebuilt = signoff("reindex", env=env, timeout=20)
    assert rebuilt.returncode == 0, (rebuilt.stdout, rebuilt.stderr)
    assert "sessions=1" in rebuilt.stdout, rebuilt.stdout


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_quarantine_skips_a_record_that_is_no_file_and_names_it(tmp_path: Path, kind: str) -> None:
    # A record was read whole by its name: a FIFO there had `signoff quarantine` wait for
    # ever, and a directory ended the listing ("Is a directory", exit 2) instead of being
    # named and skipped as a record that does not parse is (exit 1, the rest listed).
    home = Home(tmp_path / "home")
    home.ensure()
    quarantine = Quarantine(home, clock=FixedClock())
    kept, other = (
        quarantine.put(source="events_api", reason=why, payload={"a": n}, event_id=f"Ev{n}")
        for n, why in enumerate(("kept", "replaced"))
    )
    assert kept is not None and other is not None
    (path,) = home.quarantine_dir.glob(f"*/*{other.id}.json")
    path.unlink()
    os.mkfifo(path) if kind == "fifo" else path.mkdir()

    listing = signoff("quarantine", env=env_for(home.root), timeout=20)
    assert listing.returncode == 1, (listing.stdout, listing.stderr)
    assert kept.id in listing.stdout and "1 item(s)" in listing.stdout, listing.stdout
    (line,) = listing.stderr.splitlines()
    assert str(path) in line and "(skipped)" in line, line


def test_reindex_over_an_index_that_is_a_directory_names_it_and_leaves_no_rebuild(
    tmp_path: Path,
) -> None:
    # The rebuilt index could not take the place of a directory by the index's name: the
    # one line said "Is a directory: …/index.sqlite3.rebuild-…", naming the file it had
    # just built (a regular file), not the directory in the way, and left that file.
    home, env = _asked(tmp_path)
    index = home / "index.sqlite3"
    index.unlink()
    index.mkdir()

    done = signoff("reindex", env=env, timeout=20)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr == f"signoff: error: Is a directory: {index}\n", done.stderr
    assert list(home.glob("index.sqlite3.rebuild-*")) == []


def test_show_of_a_child_whose_parent_lost_its_transcript_says_that(tmp_path: Path) -> None:
    # show said the parent "does not exist" when only its transcript was gone: a person
    # looking for the session found its directory there, records and all.
    env, _, trace = _told(tmp_path)
    child = trace.parent
    (parent,) = [s for s in child.parent.parent.glob("*/sess_*") if s != child]
    (parent / "transcript.jsonl").unlink()

    done = signoff("show", child.name, env=env)
    assert done.returncode == 2, (done.stdout, done.stderr)
    (line,) = done.stderr.splitlines()
    assert f"continues {parent.name}, whose transcript is missing" in line, line


def test_a_session_record_another_version_wrote_is_said_as_that(tmp_path: Path) -> None:
    # It said "session.json: Input should be 1": neither which field, nor that a newer
    # signoff wrote it (the fix is to run that one, not to repair the file).
    home, env = _asked(tmp_path)
    (record,) = home.glob("sessions/*/sess_*/session.json")
    newer = {**json.loads(record.read_text()), "schema_version": 2}
    record.write_text(json.dumps(newer))
    session = record.parent.name
    for command in (("show", session), ("trace", session)):
        done = signoff(*command, env=env)
        assert done.returncode == 2, done
        (line,) = done.stderr.splitlines()
        assert str(record) in line and "schema_version 2" in line, line
        assert "another version of signoff" in line, line
    # A field of the wrong kind is named.
    record.write_text(json.dumps({**newer, "schema_version": 1, "state": 7}))
    (line,) = signoff("show", session, env=env).stderr.splitlines()
    assert "state:" in line, line


@pytest.mark.parametrize("record", ["capsule", "decision"])
def test_an_approval_record_another_version_wrote_is_said_as_that(
    tmp_path: Path, record: str
) -> None:
    # The capsule and the decision said pydantic's "Input should be 1" alone, as the
    # session record did: neither the field nor that a newer signoff wrote it.
    env, pointer, _ = _told(tmp_path)
    home = Path(env["SIGNOFF_HOME"])
    (capsule,) = home.glob(f"sessions/*/sess_*/approvals/{pointer.name}.json")
    path = capsule if record == "capsule" else capsule.with_suffix(".decision.json")
    path.write_text(json.dumps({**json.loads(path.read_text()), "schema_version": 99}))
    line = _one_flagged_line(env)
    assert path.name in line and "schema_version 99" in line, line
    assert "another version of signoff" in line, line
