"""The password in a URL a tool is given in its env (DATABASE_URL, a broker's address) is
a secret whatever the variable is called: a tool that prints its connection string must
not send it to the model's provider, the transcript, the trace or the thread."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from engine_support import message, transcript
from mcp_fixture_kit import toml_str, write_config

from agent_core.messages import ToolResultMessage
from sessions import Home

if TYPE_CHECKING:
    from conftest import SignoffFactory

PASSWORD = "Pa55-w0rd-x9q"
SHOW = (
    "import os, sys; print('connecting to ' + os.environ['DATABASE_URL'] + ' in ' + "
    "os.environ['REGION']); sys.exit('FATAL: cannot reach ' + os.environ['DATABASE_URL'])"
)


async def test_a_password_in_a_url_in_env_is_masked_wherever_the_result_goes(
    open_signoff: SignoffFactory, tmp_path: Path, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgres://app:{PASSWORD}@db.internal:5432/prod")
    argv = ", ".join(toml_str(a) for a in (sys.executable, "-c", SHOW))
    config = write_config(
        tmp_path / "signoff.toml",
        f'[commands.db_check]\ndescription = "Check the database"\nargv = [{argv}]\n'
        'env = { DATABASE_URL = "${DATABASE_URL}", REGION = "eu-west-1" }\n'
        "requires_approval = false\n",
    )
    engine = await open_signoff(config)
    await engine.ingest(message("call db_check", ts="1700000000.000100"))
    await engine.idle()
    (result,) = [m for m in transcript(home) if isinstance(m, ToolResultMessage)]
    assert result.status == "error"
    assert "connecting to postgres://app:***@db.internal:5432/prod in eu-west-1" in result.content
    assert "FATAL: cannot reach postgres://app:***@db.internal:5432/prod" in result.content
    for path in home.root.rglob("*"):
        if path.is_file() and "tool-output" not in path.parts:
            assert PASSWORD.encode() not in path.read_bytes(), path
