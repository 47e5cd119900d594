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
