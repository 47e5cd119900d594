"""The README's walk-through in a real browser: mention, card, refused self-approval (seen only
by the one who clicked), approval by someone else, the locked card, the result in the
thread, a denial with a reason from the modal, a slash command, the trace page."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from browser_kit import ROOT, DevProcess, open_thread

pytest.importorskip("playwright", reason="browser tests need the playwright package")
from playwright.sync_api import expect


def as_person(page: Any, user: str) -> None:
    page.locator(f".person[data-user={user}]").click()
    expect(page.locator(f".person[data-user={user}]")).to_have_class(re.compile("active"))


def say(page: Any, text: str, *, in_thread: bool = False) -> None:
    box = page.locator("#thread-composer textarea" if in_thread else "#composer textarea")
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("")


def card_in_thread(page: Any, tool: str) -> Any:
    header = page.locator(".bk-header", has_text=f"Approval needed: {tool}")
    return page.locator("#thread-messages .msg.from-bot", has=header)


def click_button(page: Any, card: Any, label: str, *, confirm: bool) -> None:
    card.locator(".bk-actions button", has_text=label).click()
    if confirm:
        dialog = page.locator("#confirm")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("will run once")
        dialog.locator(".confirm-yes").click()


def test_walkthrough_in_the_browser(
    page: Any, dev: Callable[..., DevProcess], shot: Callable[[Any, str], Path], tmp_path: Path
) -> None:
    server = dev(tmp_path / "home", "--port", "0")
    page.goto(server.url + "/")
    expect(page).to_have_url(re.compile(r"/ui/#c=C0OPS"))
    expect(page.locator("#conn")).to_have_text("● live")
    expect(page.locator("#whoami")).to_contain_text("Alice Archer")

    # Alice mentions the bot in #ops; the card arrives in the thread (while it works the
    # thread shows signoff's status line instead of a reaction).
    say(page, "@signoff restart api")
    asked = page.locator("#messages .msg", has_text="restart api")
    expect(asked.locator(".mention")).to_have_text("@signoff")
    expect(asked.locator(".reaction[data-name=eyes]")).to_have_count(0)
    open_thread(page, asked)
    card = card_in_thread(page, "restart_service")
    expect(card).to_be_visible()
    who = card.locator(".bk-fields").last
    expect(who).to_contain_text("Requested by")
    expect(who.locator(".mention")).to_have_text("@alice")
    expect(card.locator(".bk-fields").first.locator("code")).to_have_text("api")  # service
    expect(card.locator(".bk-fields code")).to_have_count(2)  # the argument, the call hash
    expect(card.locator("blockquote").first).to_have_text("restart api")  # what she asked
    expect(card.locator(".bk-button.primary")).to_have_text("Approve")
    expect(card.locator(".bk-button.danger")).to_have_text("Deny")
    shot(page, "1-card")

    # Alice may not approve her own request: only she is told so.
    click_button(page, card, "Approve", confirm=True)
    refusal = page.locator(".msg.ephemeral", has_text="You may not decide this request")
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text("Only visible to you")
    expect(card.locator(".bk-actions")).to_have_count(1)
    shot(page, "2-self-approval-refused")
    as_person(page, "U0BOB")
    expect(page.locator("#whoami")).to_contain_text("Bob Baker")
    expect(card).to_be_visible()
    expect(page.locator(".msg.ephemeral")).to_have_count(0)

    # Bob approves: the card locks, the call runs once, the result lands in the thread.
    click_button(page, card, "Approve", confirm=True)
    expect(card.locator(".bk-actions")).to_have_count(0)
    expect(card).to_contain_text("Approved by @bob")
    result = page.locator("#thread-messages .msg.from-bot", has_text="restarts=1")
    expect(result).to_be_visible()
    expect(result.locator("code").first).to_have_text("restart_service")
    shot(page, "3-approved")
    if os.environ.get("SIGNOFF_UPDATE_SCREENSHOT"):
        page.screenshot(path=str(ROOT / "docs" / "screenshot.png"))
    as_person(page, "U0ALICE")
    expect(refusal).to_be_visible()  # still there for Alice, and only for her

    # Carol asks for another restart; Dave denies it with a reason, through the modal.
    page.locator("#thread-close").click()
    as_person(page, "U0CAROL")
    say(page, "@signoff restart web")
    open_thread(page, page.locator("#messages .msg", has_text="restart web"))
    # This thread's card, not the last one's: a loaded machine may show that one a while.
    expect(page.locator("#thread-messages")).to_contain_text("restart web")
    second = card_in_thread(page, "restart_service").filter(has_text="web")
    expect(second.locator(".bk-fields").first.locator("code")).to_have_text("web")
    as_person(page, "U0DAVE")  # not in #ops, but it is public: he reads it and may decide
    expect(page.locator(".channel[data-channel=C0OPS]")).to_have_class(re.compile("not-member"))
    click_button(page, second, "Deny", confirm=False)
    modal = page.locator("#modal")
    expect(modal.locator(".modal-title")).to_have_text("Deny request")
    modal.locator("textarea").fill("change freeze until Monday")
    shot(page, "4-deny-modal")
    modal.locator(".modal-submit").click()
    expect(modal).to_be_hidden()
    expect(second).to_contain_text("Denied by @dave")
    expect(second.locator("blockquote").last).to_have_text("change freeze until Monday")
    expect(second.locator(".bk-actions")).to_have_count(0)
    told = page.locator("#thread-messages .msg.from-bot", has_text="I did not run")
    expect(told).to_contain_text("change freeze until Monday")

    # A slash command from the composer; the answer is ephemeral.
    as_person(page, "U0BOB")
    say(page, "/signoff sessions")
    expect(page.locator(".msg.ephemeral", has_text="Recent sessions here")).to_be_visible()

    say(page, "/signoff trace")
    inline = page.locator(".msg.ephemeral .code-block", has_text="session(s)")
    expect(inline).to_contain_text("denied by U0DAVE")
    shot(page, "5-slash-trace")

    # The trace page, linked from the card.
    open_thread(page, page.locator("#messages .msg", has_text="restart api"))
    card.hover()
    with page.context.expect_page() as opened:
        card.locator(".trace-link").click()
    trace = opened.value
    trace.wait_for_load_state()
    expect(trace.locator("h1")).to_contain_text("C0OPS")
    highlighted = trace.locator(".approval.hl")
    expect(highlighted).to_contain_text("restart_service")
    expect(highlighted).to_contain_text("approved by @bob")
    expect(trace.locator(".ev-approval_requested")).to_have_count(1)
    expect(trace.locator(".ev-tool_finished").first).to_contain_text("ok")
    expect(trace.locator(".ev-message").first).to_contain_text("@alice")
    shot(trace, "6-trace-page")

    # The overview lists the sessions and what is still pending (nothing).
    trace.locator("nav a", has_text="sessions").click()
    expect(trace.locator("h1")).to_have_text("Pending approvals (0)")
    expect(trace.locator("table.sessions tr")).to_have_count(5)  # header + 4 sessions
    shot(trace, "7-sessions")

    out = server.stop(signal.SIGINT)  # Ctrl-C
    assert "signoff dev: stopped" in out
