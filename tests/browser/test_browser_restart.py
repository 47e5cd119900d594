"""Stop `signoff dev`, start it again "two days later" (--clock-offset 2d) on the same home and
port: the open page reconnects by itself, every thread and card is still there, and a card
from before the restart is approved and runs."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from browser_kit import DevProcess, open_thread
from loopback_ports import free_port

pytest.importorskip("playwright", reason="browser tests need the playwright package")
from playwright.sync_api import expect


def test_a_card_from_before_a_restart_is_approved_two_days_later(
    page: Any, dev: Callable[..., DevProcess], shot: Callable[[Any, str], Path], tmp_path: Path
) -> None:
    home, port = tmp_path / "home", str(free_port())
    first = dev(home, "--port", port)
    page.goto(first.url + "/ui/#c=C0OPS&u=U0CAROL")
    expect(page.locator("#conn")).to_have_text("● live")
    expect(page.locator("#whoami")).to_contain_text("Carol Cooper")
    box = page.locator("#composer textarea")
    box.fill("@signoff restart worker")
    box.press("Enter")
    asked = page.locator("#messages .msg", has_text="restart worker")
    open_thread(page, asked)
    header = page.locator(".bk-header", has_text="Approval needed: restart_service")
    card = page.locator("#thread-messages .msg.from-bot", has=header)
    expect(card.locator(".bk-fields").first.locator("code")).to_have_text("worker")
    expect(card.locator(".bk-actions")).to_have_count(1)
    card_ts = card.get_attribute("data-ts")

    out = first.stop()
    assert "signoff dev: stopped" in out
    expect(page.locator("#conn")).to_have_text("○ reconnecting…")
    shot(page, "1-stopped")

    before = datetime.now(UTC)
    second = dev(home, "--port", port, "--clock-offset", "2d")
    after = datetime.now(UTC)
    assert "clock offset 2 days" in second.output()
    # The same page, never reloaded, is live again and shows what was there before.
    expect(page.locator("#conn")).to_have_text("● live")
    expect(asked.locator(".thread-summary")).to_be_visible()
    card = page.locator(f"#thread-messages .msg[data-ts='{card_ts}']")
    expect(card.locator(".bk-actions")).to_have_count(1)
    shot(page, "2-restarted")

    page.locator(".person[data-user=U0BOB]").click()
    card.locator(".bk-actions button", has_text="Approve").click()
    page.locator("#confirm .confirm-yes").click()
    expect(card.locator(".bk-actions")).to_have_count(0)
    expect(card).to_contain_text("Approved by @bob")
    # Decided by the engine's clock: two days after the card was posted.
    days = {(moment + timedelta(days=2)).date().isoformat() for moment in (before, after)}
    # (shown in the reader's zone; the date's title is its UTC fallback)
    when = card.locator(".bk-section", has_text="Approved by").locator(".slack-date").first
    stamp = when.get_attribute("title") or ""
    found = re.match(r"(\d{4}-\d\d-\d\d) ", stamp)
    assert found is not None and found.group(1) in days, stamp
    result = page.locator("#thread-messages .msg.from-bot", has_text="restarts=1")
    expect(result).to_contain_text("restart_service")
    # The chat's clock moved too: the answer is dated two days after the card.
    assert float(result.get_attribute("data-ts")) - float(card_ts) > 2 * 86400 - 60
    shot(page, "3-approved-days-later")

    out = second.stop()
    assert "signoff dev: stopped" in out
