"""`signoff dev` in a real browser: a card read at a glance, the Home tab's queue and a
decision made from it (the thread's card locks too), and a request from a direct message
decided in #ops. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from browser_kit import DevProcess, open_thread
from test_browser_walkthrough import as_person, card_in_thread, say

pytest.importorskip("playwright", reason="browser tests need the playwright package")
from playwright.sync_api import expect


def open_app(page: Any, tab: str) -> None:
    with page.expect_response("**/_ui/api/home_opened"):
        page.locator("#apps .app-entry").click()
    if tab == "Messages":
        page.locator("#app-tabs .app-tab", has_text="Messages").click()
    expect(page.locator("#app-tabs .app-tab.active")).to_have_text(tab)


def test_home_tab_card_and_a_request_from_a_dm(
    page: Any, dev: Callable[..., DevProcess], shot: Callable[[Any, str], Path], tmp_path: Path
) -> None:
    server = dev(tmp_path / "home", "--port", "0")
    page.goto(server.url + "/")
    expect(page.locator("#conn")).to_have_text("● live")

    # Bob opens signoff's Home first: nothing waits for him yet.
    as_person(page, "U0BOB")
    open_app(page, "Home")
    home = page.locator("#home")
    expect(home.locator(".bk-header").first).to_have_text("Waiting for you (0)")
    expect(home).to_contain_text("Nothing waits for your decision.")

    # Alice asks in #ops; the card reads at a glance.
    as_person(page, "U0ALICE")
    page.locator(".channel[data-channel=C0OPS]").click()
    say(page, "@signoff restart api")
    open_thread(page, page.locator("#messages .msg", has_text="restart api"))
    card = card_in_thread(page, "restart_service")
    expect(card).to_be_visible()
    expect(card.locator(".bk-context").first).to_contain_text("Restart every replica")
    expect(card.locator("blockquote").first).to_have_text("restart api")
    expect(card.locator(".bk-fields").first).to_contain_text("service")
    expect(card.locator(".bk-fields").first.locator("code")).to_have_text("api")
    expires = card.locator(".bk-fields .slack-date")
    expect(expires).to_have_count(1)
    expect(expires).to_have_attribute("title", re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"))
    expect(card).to_contain_text("(7 days after the request)")
    expect(card).not_to_contain_text("<!date")
    shot(page, "1-card")

    # Bob's Home now lists it, with the card's own buttons; he approves from there.
    as_person(page, "U0BOB")
    open_app(page, "Home")
    expect(home.locator(".bk-header").first).to_have_text("Waiting for you (1)")
    expect(home).to_contain_text("restart_service")
    expect(home.locator(".mention", has_text="@alice").first).to_be_visible()
    expect(home.locator(".channel-ref").first).to_have_text("#ops")
    shot(page, "2-home-waiting")
    home.locator(".bk-button", has_text="Approve").click()
    dialog = page.locator("#confirm")
    expect(dialog).to_contain_text("will run once")
    dialog.locator(".confirm-yes").click()
    expect(home.locator(".bk-header").first).to_have_text("Waiting for you (0)")
    expect(home).to_contain_text("approved by @bob")
    expect(home).to_contain_text("ran: ok")
    shot(page, "3-home-decided")

    # The thread's card locked too, and the restart ran once.
    page.locator(".channel[data-channel=C0OPS]").click()
    open_thread(page, page.locator("#messages .msg", has_text="restart api"))
    expect(card).to_contain_text("Approved by @bob")
    expect(card.locator(".bk-actions")).to_have_count(0)
    expect(page.locator("#thread-messages .msg.from-bot", has_text="restarts=1")).to_be_visible()

    # Alice asks in a DM with signoff: no mention needed; the card goes to #ops.
    as_person(page, "U0ALICE")
    open_app(page, "Messages")
    say(page, "restart web")
    asked = page.locator("#messages .msg", has_text="restart web")
    open_thread(page, asked)
    pointer = page.locator("#thread-messages .msg.from-bot", has_text="I asked in")
    expect(pointer.locator(".channel-ref")).to_have_text("#ops")
    shot(page, "4-dm-pointer")
    # 30 s, not 10: a loaded CI machine was seen to take longer to open the tab.
    with page.context.expect_page(timeout=30_000) as opened:
        pointer.locator("a", has_text="the card").click()
    card_page = opened.value  # the permalink opens the card in #ops
    card_page.wait_for_load_state()
    expect(card_page).to_have_url(re.compile(r"#c=C0OPS&t="))
    routed = card_page.locator("#thread-messages .msg.from-bot", has_text="a direct message")
    expect(routed).to_contain_text("Approval needed: restart_service")
    expect(routed.locator(".bk-button", has_text="Approve")).to_be_visible()
    shot(card_page, "5-card-from-dm")
