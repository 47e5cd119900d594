"""Transcripts by reference (issue 14): a child holds its parent's (id, lines, sha256) and
only its own lines; reading follows the chain and checks every link."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from engine_support import THREAD, EngineFactory, chain, head, message, text, transcript

from agent_core.engine import Engine
from agent_core.messages import AssistantMessage, UserMessage
from agent_core.scripted import ScriptedModel
from bot.cli import main
from sessions import (
    CorruptRecordError,
    FixedClock,
    Home,
    IntentTicket,
    SessionFiles,
    SessionStore,
    atomic,
    canonical_json,
    verify,
)
from sessions.transcript_chain import forget_cached


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _full_bytes(records: list[dict[str, Any]]) -> bytes:
    """What a full copy of these records holds: one canonical line each."""
    return b"".join((canonical_json(r) + "\n").encode() for r in records)


async def _thread_of(make_engine: EngineFactory, turns: int) -> Engine:
    model = ScriptedModel([text(f"answer {i}") for i in range(turns)])
    engine = await make_engine(model=model)
    for i in range(turns):
        await engine.ingest(message(f"question {i}", ts=f"{1700000000 + i}.000100"))
        await engine.idle()
    return engine


async def test_a_child_holds_a_reference_and_only_its_own_lines(
    make_engine: EngineFactory, home: Home
) -> None:
    await _thread_of(make_engine, 3)
    first, second, third = chain(home)
    assert third.parent_id == second.id and second.parent_id == first.id
    parent_records = SessionFiles(home.session_dir(second.id)).read_transcript()
    raw = _lines(home.session_dir(third.id) / "transcript.jsonl")
    assert raw[0] == {
        "schema_version": 1,
        "continues": {
            "session": second.id,
            "lines": len(parent_records),
            "sha256": hashlib.sha256(_full_bytes(parent_records)).hexdigest(),
        },
    }
    own = raw[1:]
    assert [m["role"] for m in own] == ["user", "assistant"]
    assert own[0]["text"] == "question 2" and own[1]["text"] == "answer 2"
    # Read through the chain, the head holds the whole conversation, in order.
    whole = transcript(home)
    assert [m.text for m in whole if isinstance(m, UserMessage)] == [
        "question 0",
        "question 1",
        "question 2",
    ]
    assert [m.text for m in whole if isinstance(m, AssistantMessage)] == [
        "answer 0",
        "answer 1",
        "answer 2",
    ]
    forget_cached()  # a new process: the chain is read again from disk, link by link
    assert transcript(home) == whole
    md = (home.session_dir(third.id) / "SESSION.md").read_text()
    assert f"continues from `{second.id}` (its first {len(parent_records)} lines)" in md
    assert f"`signoff show {third.id}` prints it all" in md


def _stored(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


async def test_a_200_turn_thread_writes_its_transcript_about_once(
    make_engine: EngineFactory, home: Home
) -> None:
    atomic.set_fsync(False)  # fsync changes how long this takes, not what is written
    try:
        engine = await make_engine(model=ScriptedModel([text(f"answer {i}") for i in range(200)]))
        for i in range(200):
            if i == 100:
                half = _stored(home.sessions_dir)
            await engine.ingest(message(f"question {i}", ts=f"{1700000000 + i}.000100"))
            await engine.idle()
    finally:
        atomic.set_fsync(True)
    final = _full_bytes(SessionFiles(home.session_dir(head(home))).read_transcript())
    sessions = [home.session_dir(r.id) for r in chain(home)]
    assert len(sessions) == 200
    transcripts = sum((d / "transcript.jsonl").stat().st_size for d in sessions)
    # Copying the parent made this ~100x; a reference line per session is all that is added.
    assert transcripts <= 2 * len(final)
    # Linear: the second hundred turns add about what the first hundred did (a copy per
    # session made the second hundred cost three times the first).
    second = _stored(home.sessions_dir) - half
    assert second <= 1.2 * half


async def test_tampering_with_an_ancestor_is_detected_and_resume_refuses(
    make_engine: EngineFactory, home: Home
) -> None:
    engine = await _thread_of(make_engine, 3)
    first = chain(home)[0]
    assert len(transcript(home)) == 6  # the chain is cached in this process now
    path = home.session_dir(first.id) / "transcript.jsonl"
    path.write_text(path.read_text().replace("question 0", "question X"))
    with pytest.raises(CorruptRecordError, match="changed after this session continued it"):
        SessionFiles(home.session_dir(head(home))).read_transcript()
    before = [r.id for r in chain(home)]
    await engine.ingest(message("question 3", ts="1700000003.000100"))
    await engine.idle()
    assert [r.id for r in chain(home)] == before  # no child was started on a forged past
    assert any(isinstance(e, CorruptRecordError) for e in engine.errors)


async def test_a_reference_claiming_more_lines_than_the_parent_has_is_corrupt(
    home: Home, clock: FixedClock
) -> None:
    store = SessionStore(home, clock=clock)
    parent = store.create(thread=THREAD, parent_id=None, cause="t", session_md="")
    SessionFiles(home.session_dir(parent.id)).append_transcript({"role": "user", "text": "a"})
    ref = SessionFiles(home.session_dir(parent.id)).transcript_reference()
    bad = ref.line().replace('"lines":1', '"lines":2')
    child = store.create(
        thread=THREAD, parent_id=parent.id, cause="t", session_md="", transcript=f"{bad}\n".encode()
    )
    with pytest.raises(CorruptRecordError, match="which has 1"):
        SessionFiles(home.session_dir(child.id)).read_transcript()
    newer = ref.line().replace('"schema_version":1', '"schema_version":9')
    other = store.create(
        thread=THREAD,
        parent_id=parent.id,
        cause="t",
        session_md="",
        transcript=f"{newer}\n".encode(),
    )
    with pytest.raises(CorruptRecordError, match="unknown reference version"):
        SessionFiles(home.session_dir(other.id)).read_transcript()


async def test_transcripts_that_reference_each_other_are_corrupt_not_a_hang(
    home: Home, clock: FixedClock
) -> None:
    store = SessionStore(home, clock=clock)
    first = store.create(thread=THREAD, parent_id=None, cause="t", session_md="")
    second = store.create(thread=THREAD, parent_id=first.id, cause="t", session_md="")
    for own, other in ((first, second), (second, first)):
        loop = json.dumps(
            {
                "continues": {
                    "lines": 0,
                    "session": other.id,
                    "sha256": hashlib.sha256().hexdigest(),
                },
                "schema_version": 1,
            }
        )
        home.session_dir(own.id).joinpath("transcript.jsonl").write_text(loop + "\n")
    forget_cached()
    with pytest.raises(CorruptRecordError, match="references loop"):
        SessionFiles(home.session_dir(first.id)).read_transcript()


async def test_old_sessions_holding_a_full_copy_still_read_and_continue(
    make_engine: EngineFactory, home: Home, clock: FixedClock
) -> None:
    # As versions before references wrote them: the child starts with a copy of its parent.
    store = SessionStore(home, clock=clock)
    old = [
        {"role": "user", "text": "old question", "user": "U0ALICE", "ts": "1700000000.000100"},
        {"role": "assistant", "text": "old answer"},
    ]
    parent = store.create(thread=THREAD, parent_id=None, cause="message", session_md="")
    for r in old:
        SessionFiles(home.session_dir(parent.id)).append_transcript(r)
    copy = (home.session_dir(parent.id) / "transcript.jsonl").read_bytes()
    child = store.create(
        thread=THREAD, parent_id=parent.id, cause="message", session_md="", transcript=copy
    )
    files = SessionFiles(home.session_dir(child.id))
    files.append_transcript({"role": "user", "text": "again", "user": "U0ALICE", "ts": "2.1"})
    assert [r["text"] for r in files.read_transcript()] == ["old question", "old answer", "again"]
    assert files.inherited_lines() is None  # a full copy: no reference
    for sid in (parent.id, child.id):
        for state in ("running", "completed"):
            current = store.load(sid).state
            store.transition(sid, expected=current, new=type(current)(state))
    from sessions import ThreadDir

    tdir = ThreadDir(home, THREAD)
    tdir.ensure()
    tdir.set_head(child.id)
    engine = await make_engine(model=ScriptedModel([text("new answer")]))
    await engine.ingest(message("new question", ts="1700000005.000100"))
    await engine.idle()
    assert [m.text for m in transcript(home)] == [
        "old question",
        "old answer",
        "again",
        "new question",
        "new answer",
    ]
    assert _lines(home.session_dir(head(home)) / "transcript.jsonl")[0]["continues"]["lines"] == 3


def test_a_torn_last_ticket_line_is_not_a_ticket(home: Home, clock: FixedClock) -> None:
    store = SessionStore(home, clock=clock)
    directory = home.session_dir(
        store.create(thread=THREAD, parent_id=None, cause="t", session_md="").id
    )
    files = SessionFiles(directory, clock=clock)
    intent = IntentTicket(at="2026-11-02T09:00:00.000Z", call_id="c1", tool="t", args_sha256="0")
    files.write_ticket(intent)
    with (directory / "tickets.jsonl").open("ab") as handle:
        handle.write(b'{"seq":2,"kind":"result","at":"2026-11-0')  # a crash mid-append
    assert files.read_tickets() == [intent]
    # A session written before tickets.jsonl: one file per ticket, still read first.
    legacy = IntentTicket(at="2026-11-02T08:00:00.000Z", call_id="c0", tool="t", args_sha256="0")
    (directory / "tickets").mkdir()
    (directory / "tickets" / "000001-intent.json").write_text(legacy.model_dump_json())
    assert files.read_tickets() == [legacy, intent]


async def test_signoff_show_prints_the_whole_transcript(
    make_engine: EngineFactory,
    home: Home,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _thread_of(make_engine, 3)
    monkeypatch.setenv("SIGNOFF_HOME", str(home.root))
    monkeypatch.setenv("SIGNOFF_DEMO", "1")
    for name in ("SIGNOFF_POLICY", "SIGNOFF_MODEL", "SIGNOFF_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    first, second, third = chain(home)
    assert main(["show", third.id]) == 0
    out = capsys.readouterr().out
    for i in range(3):
        assert f"question {i}" in out and f"answer {i}" in out
    assert out.index("question 0") < out.index("answer 0") < out.index("question 2")
    assert f"--- records 1-2: {first.id} ---" in out
    assert "--- records 5-6: this session ---" in out
    assert main(["show", "sess_0123456789ab"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "no session" in captured.err


async def test_a_system_prompt_is_written_once_per_thread_until_it_changes(
    make_engine: EngineFactory, home: Home
) -> None:
    """Every session's SESSION.md names its system prompt by sha256; the text itself is in
    the first session that used it, which the others name (a long thread wrote the same
    ~450 bytes again for every message). A prompt that changed is written out again."""
    engine = await _thread_of(make_engine, 3)
    first, second, third = chain(home)
    digest = hashlib.sha256(engine.rt.system_prompt.encode()).hexdigest()[:16]
    md = {s.id: (home.session_dir(s.id) / "SESSION.md").read_text() for s in chain(home)}
    assert engine.rt.system_prompt in md[first.id]
    where = home.session_dir(first.id).relative_to(home.root) / "SESSION.md"
    for later in (second, third):
        assert engine.rt.system_prompt not in md[later.id]
        assert f"sha256 `{digest}`" in md[later.id]
        assert f"as in session `{first.id}` (`{where}`)" in md[later.id]
    # An upgrade that changes the prompt: the next session holds the new text.
    object.__setattr__(engine.rt, "system_prompt", "You are a changed assistant.")
    await engine.ingest(message("question 3", ts="1700000003.000100"))
    await engine.idle()
    fourth = chain(home)[-1]
    changed = (home.session_dir(fourth.id) / "SESSION.md").read_text()
    assert "You are a changed assistant." in changed
    assert "as in session" not in changed
    assert all(verify(home.session_dir(s.id)).ok for s in chain(home) if s.terminal)
