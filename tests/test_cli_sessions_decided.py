"""``signoff sessions`` on a home where a parked session's request was decided says what
became of it, as ``/signoff sessions`` does: its stored reason ("waiting for appr_…") was
true only until the decision, and an operator reading the list would look for a request
nobody can decide any more. Run as the console script, as an operator runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli_errors import env_for, signoff

THREAD = ["--channel", "C0OPS", "--thread", "1700000000.000100"]


def _parked_session(env: dict[str, str]) -> tuple[str, str]:
    """(approval id, session id) of a fresh request, asked by U0ALICE."""
    done = signoff("say", "--as", "U0ALICE", *THREAD, "--ts", "1700000000.000100",
                   "<@U0BOT> restart api", env=env, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    pending = signoff("pending", env=env)
    assert pending.returncode == 0, pending.stderr
    words = pending.stdout.split()
    return words[0], words[words.index("session") + 1]


def _line_of(listing: str, session: str) -> str:
    lines = [line for line in listing.splitlines() if line.startswith(session)]
    assert len(lines) == 1, listing
    return lines[0]


@pytest.mark.parametrize(("verb", "verdict"), [("approve", "approved"), ("deny", "denied")])
def test_a_decided_request_is_no_longer_waited_for_in_the_list(
    tmp_path: Path, verb: str, verdict: str
) -> None:
    env = env_for(tmp_path / "h", SIGNOFF_DEMO="1")
    approval, session = _parked_session(env)
    assert approval.startswith("appr_")
    before = signoff("sessions", env=env)
    assert before.returncode == 0, before.stderr
    # Undecided, the stored reason is the truth: the list keeps saying it.
    assert f"waiting for {approval}" in _line_of(before.stdout, session)

    decided = signoff(verb, approval, "--as", "U0BOB", env=env, timeout=60)
    assert decided.returncode == 0, decided.stderr

    after = signoff("sessions", env=env)
    assert after.returncode == 0, after.stderr
    line = _line_of(after.stdout, session)
    assert "waiting for" not in line, after.stdout
    assert f"decided: {verdict} by U0BOB" in line, after.stdout
