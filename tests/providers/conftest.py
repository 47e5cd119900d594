from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI
from providers_testkit import SleepRecorder

from agent_core.providers.base import ProviderModel

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


@pytest.fixture(autouse=True)
async def _models_closed(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """Every provider model a test builds is closed after it, as the engine closes its
    own: an SDK client left open said "Unclosed client session" on the worker's stderr
    whenever the garbage collector found it, in some later test."""
    made: list[ProviderModel[Any]] = []
    built = ProviderModel.__init__

    def tracked(self: ProviderModel[Any], *args: Any, **kwargs: Any) -> None:
        built(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(ProviderModel, "__init__", tracked)
    yield
    for model in made:
        await model.aclose()


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
