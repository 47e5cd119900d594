"""A command tool's settings in its ``env`` (a namespace, a kubeconfig path) are what the
approved call acts on: one edited between a request and its approval is a changed tool,
as an edited argv is. A secret's value is not: a rotated token is the same command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from engine_support import message, transcript
from mcp_fixture_kit import toml_str, write_config
from pydantic import SecretStr

from agent_core.messages import ToolResultMessage
from agent_core.surface import RecordingSurface
from agent_core.tools.command import CommandTool
from agent_core.tools.specs import CommandSpec
from sessions import Home

if TYPE_CHECKING:
    from conftest import SignoffFactory

# Appends "<deployment> in <namespace>" to the file named by its first argument.
SCRIPT = "import os, sys; open(sys.argv[1], 'a').write(sys.argv[2] + ' in ' + os.environ['NS'] + chr(10))"


def restart_table(out: Path, namespace: str, token: str) -> str:
    argv = ", ".join(toml_str(a) for a in (sys.executable, "-c", SCRIPT, str(out)))
    return (
        "[commands.restart]\n"
        'description = "Restart a deployment"\n'
        f'argv = [{argv}, "{{deployment}}"]\n'
        'params.deployment = { type = "string", pattern = "^[a-z0-9-]{1,63}$" }\n'
        f'env = {{ NS = "{namespace}", OPS_TOKEN = "{token}" }}\n'
    )


def version(env: dict[str, str]) -> str:
    spec = CommandSpec(
        description="t",
        argv=("env",),
        timeout="5s",
        env={k: SecretStr(v) for k, v in env.items()},
    )
    return CommandTool(name="t", spec=spec).version


def test_the_version_covers_settings_but_no_secret() -> None:
    prod = version({"NS": "prod", "OPS_TOKEN": "one"})
    assert version({"NS": "staging", "OPS_TOKEN": "one"}) != prod
    assert version({"NS": "prod", "OPS_TOKEN": "two"}) == prod  # a rotated token
    # The password of a URL is a secret whatever its variable is called; its host is not.
    db = version({"DATABASE_URL": "postgres://app:one@db/prod"})
    assert version({"DATABASE_URL": "postgres://app:two@db/prod"}) == db
    assert version({"DATABASE_URL": "postgres://app:one@db/staging"}) != db


async def _approved_after_the_config_became(
    open_signoff: SignoffFactory, tmp_path: Path, surface: RecordingSurface, ns: str, token: str
) -> Path:
    """A restart asked in staging with the token "tok-one", approved by Bob while the kill
    switch held it, started once the operator changed the tool's settings to ``ns`` and
    ``token`` and lifted the switch: where its runs are logged."""
    out = tmp_path / "restarts.log"
    config = write_config(tmp_path / "signoff.toml", restart_table(out, "staging", "tok-one"))
    engine = await open_signoff(config)
    await engine.ingest(message("call restart deployment=api", ts="1700000000.000100"))
    await engine.idle()
    (card,) = surface.cards
    # Approved while the kill switch held it; the settings change before it runs (a click
    # after the change is refused at once: tests/e2e/test_e2e_tool_gone_click.py).
    home = engine.home
    home.kill_switch.touch()
    await engine.decide(card.id, user="U0BOB", approve=True)
    await engine.idle()
    await engine.close()

    write_config(config, restart_table(out, ns, token))
    engine = await open_signoff(config)
    home.kill_switch.unlink()
    await engine.sweep()
    await engine.idle()
    return out


async def test_a_setting_edited_while_a_request_waits_is_refused_not_run_elsewhere(
    open_signoff: SignoffFactory, tmp_path: Path, home: Home, surface: RecordingSurface
) -> None:
    # The operator points the tool at production while Bob has not decided yet.
    out = await _approved_after_the_config_became(
        open_signoff, tmp_path, surface, "prod", "tok-one"
    )
    assert not out.exists()  # Bob approved a restart in staging; none ran in prod
    (result,) = [m for m in transcript(home) if isinstance(m, ToolResultMessage)]
    assert result.status == "error"
    assert "not run: the tool changed since it was approved" in result.content


async def test_a_rotated_token_leaves_the_approved_call_to_run(
    open_signoff: SignoffFactory, tmp_path: Path, surface: RecordingSurface
) -> None:
    out = await _approved_after_the_config_became(
        open_signoff, tmp_path, surface, "staging", "tok-two"
    )
    assert out.read_text() == "api in staging\n"
