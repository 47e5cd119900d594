"""`signoff dev` with a config that adds an MCP server (the tests' ops server over stdio): a
person calls one of its tools from the browser with the offline model's `call`, and approves
a gated one as someone else."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from browser_kit import DevProcess, open_thread

pytest.importorskip("playwright", reason="browser tests need the playwright package")
from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tooling"))
from mcp_fixture_kit import records, server_table, stdio_command, write_config


def test_a_person_calls_an_mcp_tool_from_the_browser(
    page: Any, dev: Callable[..., DevProcess], shot: Callable[[Any, str], Path], tmp_path: Path
) -> None:
    record = tmp_path / "ops-calls.jsonl"
    config = write_config(
        tmp_path / "signoff.toml", server_table(f"command = {stdio_command(record)}")
    )
    server = dev(tmp_path / "home", "--port", "0", extra_env={"SIGNOFF_CONFIG": str(config)})
    assert "4 from the demo fleet, 6 from MCP server ops" in server.output()
    page.goto(server.url + "/ui/#c=C0OPS&u=U0ALICE")
    expect(page.locator("#conn")).to_have_text("● live")

    box = page.locator("#composer textarea")
    box.fill("@signoff call ops__get_pods namespace=prod")
    box.press("Enter")
    asked = page.locator("#messages .msg", has_text="call ops__get_pods")
    open_thread(page, asked)
    answer = page.locator("#thread-messages .msg.from-bot", has_text="pods in prod")
    expect(answer).to_contain_text("api-7d9 Running")
    shot(page, "1-read-only-tool")
    assert [r["tool"] for r in records(record)] == ["get_pods"]

    box.fill("@signoff call ops__restart_deployment deployment=web namespace=prod")
    box.press("Enter")
    open_thread(page, page.locator("#messages .msg", has_text="call ops__restart_deployment"))
    header = page.locator(".bk-header", has_text="Approval needed: ops__restart_deployment")
    card = page.locator("#thread-messages .msg.from-bot", has=header)
    arguments = card.locator(".bk-fields").first
    expect(arguments.locator("code")).to_have_text(["web", "prod"])  # deployment, namespace
    expect(card.locator(".bk-context").first).to_contain_text("Restart a deployment")
    expect(card).to_contain_text("Tool says (unverified): not read-only, destructive")
    page.locator(".person[data-user=U0BOB]").click()
    card.locator(".bk-actions button", has_text="Approve").click()
    page.locator("#confirm .confirm-yes").click()
    expect(card).to_contain_text("Approved by @bob")
    result = page.locator("#thread-messages .msg.from-bot", has_text="restarted in prod")
    expect(result).to_contain_text("deployment.apps/web")
    shot(page, "2-approved-mcp-call")
    assert [r["tool"] for r in records(record)] == ["get_pods", "restart_deployment"]
    out = server.stop()
    assert "signoff dev: stopped" in out
