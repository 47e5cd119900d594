"""Browser tests: `signoff dev` in a subprocess, driven through headless Chromium.

Chromium comes from Debian's package (/usr/bin/chromium; `.ci/install-browser` installs it)
and is driven by Playwright for Python; Playwright's own browser download is never used.
Without either, the browser tests skip and say why; the other tests here still run.
Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from background_slack import BackgroundSlack
from browser_kit import CHROMIUM, LAUNCH_ARGS, SHOTS, DevProcess


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (run .ci/install-browser)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.skip("browser tests need the playwright package: pip install -e '.[dev]'")
    # Assertions wait as long as actions do (below): on 2 cores with CI's other test
    # processes, a page's refresh took longer than expect's own 5 s.
    expect.set_options(timeout=10_000)
    with sync_playwright() as pw:
        launched = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


# Set as a test's teardown begins: what the page says after it is no fault of the test's.
# A server fixture set up after ``page`` (``def test(page, workspace)``) is torn down
# before it, and the page's next fetch then fails ("Failed to fetch": once in a few runs).
_ENDED = pytest.StashKey[bool]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    item.stash[_ENDED] = True


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 860})
    context.set_default_timeout(10_000)
    opened = context.new_page()
    errors: list[str] = []

    def said(exc: Any) -> None:
        if not request.node.stash.get(_ENDED, False):
            errors.append(str(exc))

    opened.on("pageerror", said)
    # What the page's Content-Security-Policy refused: the UI itself must need none of it.
    refused: list[str] = []
    opened.on(
        "console",
        lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    yield opened
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    # A module that shows the policy at work says so (EXPECTS_POLICY_REFUSALS).
    if not getattr(request.module, "EXPECTS_POLICY_REFUSALS", False):
        assert not refused, f"the page's policy refused: {refused}"


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(target: Any, name: str) -> Path:
        path = SHOTS / f"{request.node.name}-{name}.png"
        target.screenshot(path=str(path))
        return path

    return take


@pytest.fixture
def dev() -> Iterator[Callable[..., DevProcess]]:
    started: list[DevProcess] = []

    def start(home: Path, *args: str, extra_env: dict[str, str] | None = None) -> DevProcess:
        process = DevProcess(home, *args, extra_env=extra_env)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.proc.poll() is None:
            process.proc.kill()
            process.proc.wait()


@pytest.fixture
def workspace(monkeypatch: pytest.MonkeyPatch) -> Iterator[BackgroundSlack]:
    """A LocalSlack of the default workspace beside the page (a module may give its own)."""
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(var, raising=False)
    running = BackgroundSlack()
    yield running
    running.close()
