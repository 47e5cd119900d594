"""A second operator's review of the command line (2026-12-06): each test is a case that
ended wrong before its fix, run as an operator's shell would give it."""

from __future__ import annotations

import pytest
from test_cli_operator_review import cli_home  # noqa: F401 (a fixture)

from bot.cli import main


def _asked(capsys: pytest.CaptureFixture[str], text: str = "restart api") -> tuple[str, str]:
    """Alice asks: the id of the request that waits, and the hash its card shows."""
    assert main(["say", "--as", "U0ALICE", "--channel", "C0OPS", text]) == 0
    out = capsys.readouterr().out
    words = out.split()
    approval = next(w for w in words if w.startswith("appr_"))
    return approval, words[words.index("hash") + 1]


@pytest.mark.usefixtures("cli_home")
def test_a_hash_that_matches_nothing_is_not_called_an_edit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``approve --hash 000000000000`` on a request nobody edited said "the arguments were
    edited after you saw them": nothing was edited, the hash was wrong. It says the hash
    does not match and shows the request's; nothing is decided."""
    approval, shown = _asked(capsys)
    assert main(["approve", approval, "--as", "U0BOB", "--hash", "000000000000"]) == 1
    out = capsys.readouterr().out
    assert "edited" not in out, out
    assert "000000000000 does not match the arguments of this request" in out, out
    assert f"its hash is {shown})" in out, out
    assert main(["approve", approval, "--as", "U0BOB", "--hash", shown]) == 0
    assert "approved by U0BOB" in capsys.readouterr().out
