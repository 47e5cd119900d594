from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI
from providers_testkit import SleepRecorder

_SCRUB = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    # variables the SDKs would read from os.environ on their own
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_CUSTOM_HEADERS",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
)


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _SCRUB:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
async def anthropic_api() -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic() as server:
        yield server
    assert server.rejections == [], "a request broke the Messages API rules"


@pytest.fixture
async def openai_api() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server
    assert server.rejections == [], "a request broke the Chat Completions rules"
