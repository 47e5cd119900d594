"""``signoff show`` over a transcript someone changed: every record printed, never a
traceback. (Found by a review of the on-disk home; the test failed on the code it was
written against.)"""

from __future__ import annotations

import pytest
from engine_support import THREAD

from bot.cli import main
from sessions import Home, SessionState, SessionStore


@pytest.mark.parametrize(
    "line",
    [
        b'{"role": "assistant", "tool_calls": ["restart_service"]}',
        b'{"role": "assistant", "tool_calls": 5}',
        b'{"role": "assistant", "tool_calls": [{"name": "x", "arguments": {"a": 1}}, 7]}',
    ],
)
def test_a_tool_call_that_is_not_an_object_is_shown_as_it_is(
    home: Home,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    line: bytes,
) -> None:
    """``show`` is what a person reads a session with when ``verify`` says it was changed;
    an assistant record whose ``tool_calls`` was not a list of objects stopped it with a
    traceback (AttributeError, TypeError) and exit 1, which says a check found a problem."""
    monkeypatch.setenv("SIGNOFF_HOME", str(home.root))
    record = SessionStore(home).create(
        thread=THREAD,
        parent_id=None,
        cause="message",
        session_md="#\n",
        transcript=b'{"role": "user", "text": "restart api"}\n' + line + b"\n",
    )
    assert main(["show", record.id]) == 0
    out = capsys.readouterr().out
    assert "[1] user" in out and "[2] assistant:" in out
    assert "tool_calls" in out  # the part it could not read as calls, as it is


def test_a_failed_session_says_why_it_ended(
    home: Home, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A turn the model never answered holds only the person's message: ``show`` printed
    that and "(failed)", and why it failed was only in ``trace`` and session.json."""
    monkeypatch.setenv("SIGNOFF_HOME", str(home.root))
    store = SessionStore(home)
    record = store.create(
        thread=THREAD,
        parent_id=None,
        cause="message",
        session_md="#\n",
        transcript=b'{"role": "user", "text": "restart api"}\n',
    )
    store.transition(record.id, expected=SessionState.CREATED, new=SessionState.RUNNING)
    why = "Anthropic did not answer within 120 s\n\x1b[31m"
    store.transition(record.id, expected=SessionState.RUNNING, new=SessionState.FAILED, reason=why)
    assert main(["show", record.id]) == 0
    out = capsys.readouterr().out
    assert "ended failed: Anthropic did not answer within 120 s" in out
    assert "\x1b" not in out


def _shown_ending_with(home: Home, capsys: pytest.CaptureFixture[str], last: bytes) -> list[str]:
    """What ``show`` prints of a session whose transcript file ends with ``last``, written
    after its first record as an append leaves it (``create`` keeps complete lines only)."""
    record = SessionStore(home).create(
        thread=THREAD,
        parent_id=None,
        cause="message",
        session_md="#\n",
        transcript=b'{"role": "user", "text": "restart api"}\n',
    )
    with (home.session_dir(record.id) / "transcript.jsonl").open("ab") as transcript:
        transcript.write(last)
    assert main(["show", record.id]) == 0
    return capsys.readouterr().out.splitlines()


@pytest.mark.parametrize(
    "torn",
    [
        b'{"role": "assistant", "text": "restarting a',  # a crash mid-append
        b'{"role": "assistant", "text": "caf\xc3',  # cut inside a character: a traceback
    ],
)
def test_a_torn_last_line_is_said_to_be_left_out(
    home: Home,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    torn: bytes,
) -> None:
    """A person reads ``show`` to see everything a session holds; a last line cut short
    (an append a crash or a full disk stopped) was left out without a word."""
    monkeypatch.setenv("SIGNOFF_HOME", str(home.root))
    out = _shown_ending_with(home, capsys, torn)
    assert "[1] user" in out[2] and "[2]" not in "\n".join(out)
    assert out[-1] == (
        f"--- a torn last line of {len(torn)} bytes was left out (an append cut short) ---"
    )


def test_a_whole_last_record_without_its_newline_is_shown_and_nothing_is_said(
    home: Home, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SIGNOFF_HOME", str(home.root))
    out = "\n".join(_shown_ending_with(home, capsys, b'{"role": "event", "text": "x"}'))
    assert "[2] event:" in out and "torn" not in out
