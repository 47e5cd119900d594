"""Hardening: the chat runs only its own scripts.

It posts as anyone and clicks any button, so markup that slipped past an escape (an
``onerror`` attribute, an inline ``<script>``) must not run. The page's policy allows its
own files only; every browser test also checks that the UI needs nothing it refuses
(``conftest.page``); here a refusal is the point.
"""

from __future__ import annotations

from typing import Any

import pytest
from background_slack import BackgroundSlack

pytest.importorskip("playwright", reason="browser tests need the playwright package")
from playwright.sync_api import expect

EXPECTS_POLICY_REFUSALS = True  # the point of it: see conftest.page


def test_markup_that_slipped_into_the_chat_runs_no_script(
    page: Any, workspace: BackgroundSlack
) -> None:
    page.goto(f"{workspace.slack.url}/ui/#c=C0OPS&u=U0ALICE")
    expect(page.locator("#conn")).to_have_text("● live")
    # Listeners run in the order they were added: the attribute's first, then ours, which
    # ends the evaluation (no polling: the page's policy refuses what that would evaluate).
    page.evaluate(
        """() => new Promise((settled) => {
          document.body.insertAdjacentHTML("beforeend",
            "<img id=slipped src=x onerror='window.pwned = 1'>" +
            "<script>window.pwned = 2</script>");
          document.getElementById("slipped").addEventListener("error", () => settled());
        })"""
    )
    assert page.evaluate("window.pwned") is None
