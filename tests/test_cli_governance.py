"""The terminal's approvals after an edit: ``signoff approve`` names the hash it approves."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from engine_support import ask_and_edit

from agent_core.demo_fleet import demo_registry
from agent_core.engine import Engine
from agent_core.offline import OfflineModel
from approvals import load_policy
from bot.cli import main
from sessions import Home


async def _ask_and_edit(root: Path, policy: Path) -> tuple[str, str]:
    """Alice asks in a thread; Carol edits (and so approves) the call: 1 of 2."""
    engine = await Engine.open(
        home=Home(root),
        surface=None,
        model=OfflineModel(),
        registry=demo_registry(),
        policy=load_policy(policy),
    )
    try:
        approval, edit = await ask_and_edit(engine)
        return approval, edit.edit.args_sha256
    finally:
        await engine.close()


def test_approve_from_the_terminal_needs_the_hash_of_edited_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "h"
    policy = tmp_path / "policy.toml"
    policy.write_text('[tools.scale_service]\nquorum = 2\napprovers = ["U0BOB", "U0CAROL"]\n')
    for name, value in {
        "SIGNOFF_HOME": str(root),
        "SIGNOFF_POLICY": str(policy),
        "SIGNOFF_DEMO": "1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("SIGNOFF_MODEL", "SIGNOFF_CONFIG", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    approval, edited = asyncio.run(_ask_and_edit(root, policy))

    capsys.readouterr()
    assert main(["approve", approval, "--as", "U0BOB"]) == 1
    out = capsys.readouterr().out
    assert "refused: the arguments were edited after you saw them" in out
    assert f"now hash {edited[:12]}" in out
    assert main(["approve", approval, "--as", "U0BOB", "--hash", edited[:12]]) == 0
    assert "approved by U0BOB" in capsys.readouterr().out
    fleet = json.loads((root / "fleet.json").read_text())
    (scaled,) = fleet["history"]
    assert scaled["replicas"] == 8 and scaled["key"] == approval
