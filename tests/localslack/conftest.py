"""Fixtures for LocalSlack tests: a fresh server per test, real slack_sdk clients."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from localslack_testkit import PROXY_VARS, Inbox, close_client, connect_socket_client
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack, Timing, WorkspaceConfig

# Short enough that timeout paths run in well under a second, long enough that a
# same-process client acks comfortably in time.
FAST = Timing(ack_timeout=0.4, trigger_ttl=3.0, server_ping_interval=None)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # slack_sdk routes 127.0.0.1 through HTTP(S)_PROXY and ignores NO_PROXY.
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def config() -> WorkspaceConfig:
    return WorkspaceConfig(seed=1234, timing=FAST)


@pytest.fixture
async def slack(config: WorkspaceConfig) -> AsyncIterator[LocalSlack]:
    async with LocalSlack(config) as server:
        yield server


@pytest.fixture
def web(slack: LocalSlack) -> AsyncWebClient:
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
async def socket_client(slack: LocalSlack, inbox: Inbox) -> AsyncIterator[SocketModeClient]:
    client = await connect_socket_client(slack, inbox)
    yield client
    await close_client(client)
