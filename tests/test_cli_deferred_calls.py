"""A terminal that carries on an approved call its tool cannot run now says so, and its
exit status says the work is not done.

``recover`` (and ``approve``) continue a thread in their own process. A call whose tool is
unavailable there is deferred, never spent; the thread is told at the first deferral only.
A ``recover`` that deferred a call already deferred once printed its counts and exited 0,
saying nothing: the person running it was told all was done while the call still waited.
Now each call a command leaves deferred is one line on stderr, and the exit status is 3
(recorded, but what follows could not be done in this process).
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from approvals import ApprovalRequest
from bot.cli import main
from sessions import Home, SystemClock

SAY = ["say", "--as", "U0ALICE", "--channel", "C0OPS", "--ts", "1700000000.000100"]

# A tool a person wrote, whose backend comes and goes (as an MCP server's does): it is
# unavailable while the file $VAULT_SEALED names is there.
VAULT = textwrap.dedent(
    '''
    import os
    from pathlib import Path

    from agent_core.tools import ToolContext, tool
    from agent_core.tools.functions import FunctionTool


    @tool(requires_human_approval=True)
    def rotate_key(name: str, ctx: ToolContext) -> str:
        """Rotate a key.

        Args:
            name: the key
        """
        return f"rotated {name}"


    class Vault(FunctionTool):
        async def unavailable(self) -> str | None:
            return "the vault is sealed" if Path(os.environ["VAULT_SEALED"]).exists() else None


    rotate_key.__class__ = Vault
    TOOLS = [rotate_key]
    '''
)


@pytest.fixture
def vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SIGNOFF_HOME", str(tmp_path / "h"))
    for name in ("SIGNOFF_MODEL", "SIGNOFF_CONFIG", "SIGNOFF_POLICY", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SIGNOFF_DEMO", "0")
    modules = tmp_path / "mods"
    modules.mkdir()
    (modules / "vault_tools.py").write_text(VAULT)
    monkeypatch.syspath_prepend(str(modules))
    monkeypatch.setenv("SIGNOFF_TOOLS", "vault_tools")
    monkeypatch.setenv("VAULT_SEALED", str(modules / "sealed"))
    monkeypatch.delitem(sys.modules, "vault_tools", raising=False)
    return modules


def _approved_while_sealed(vault: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main([*SAY, "call rotate_key name=db"]) == 0
    assert main(["recover"]) == 0  # as a bot's start: the rules recorded as in force
    capsys.readouterr()
    assert main(["pending"]) == 0
    approval = capsys.readouterr().out.strip().splitlines()[0].split()[0]
    (vault / "sealed").touch()
    return approval


def test_approve_that_defers_its_call_says_so_and_exits_3(
    vault: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    approval = _approved_while_sealed(vault, capsys)
    assert main(["approve", approval, "--as", "U0BOB"]) == 3
    said = capsys.readouterr()
    assert said.out.startswith("approved by U0BOB"), said
    (line,) = said.err.splitlines()
    assert approval in line and "the vault is sealed" in line, line
    assert "recover" in line and "Traceback" not in said.err, line


def test_recover_that_defers_a_call_again_says_so_and_exits_3(
    vault: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    approval = _approved_while_sealed(vault, capsys)
    main(["approve", approval, "--as", "U0BOB"])  # deferred once; the thread is told
    capsys.readouterr()

    assert main(["recover"]) == 3
    said = capsys.readouterr()
    request = ApprovalRequest.open(Home(Path(vault.parent / "h")), approval, clock=SystemClock())
    assert len(request.deferrals()) == 2 and request.claimed() is None
    (line,) = said.err.splitlines()
    assert approval in line and "the vault is sealed" in line, line
    assert "not run" in line or "did not run" in line, line

    # With the vault open, recover runs it, once, and ends 0 saying nothing on stderr.
    (vault / "sealed").unlink()
    assert main(["recover"]) == 0
    said = capsys.readouterr()
    assert said.err == "", said
    request = ApprovalRequest.open(Home(Path(vault.parent / "h")), approval, clock=SystemClock())
    result = request.result()
    assert result is not None and result.ok, result
