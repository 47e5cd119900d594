"""The Home tab's one-line call is what its Approve button runs, never another call.

``_call`` wrote the arguments as ``key=value, …`` with their spaces collapsed and
backticks replaced: a model's ``service="api, dry_run=true"`` read as two arguments (a dry
run) and ``"api "`` as ``api``; Approve on the Home ran the call on those values. A string
that would not read back as itself is now shown quoted, as JSON writes it (a backtick,
which would end the line's inline code, as ``\\u0060``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import FAST
from signoff_e2e_kit import PURGE_TOOL, as_in_manifest, home_of, mention, tool_module, wait_card

from localslack import LocalSlack, WorkspaceConfig

if TYPE_CHECKING:
    from conftest import BotFactory


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=13, timing=FAST))) as server:
        yield server


@pytest.mark.parametrize(
    "service", ["api, dry_run=true", "api ", " api", "a  pi", "api\tx", "`id`"], ids=repr
)
async def test_the_home_shows_a_value_that_would_read_as_another_quoted(
    slack: LocalSlack, start_bot: BotFactory, service: str
) -> None:
    await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    await slack.open_app_home(user="U0BOB")
    await home_of(slack, "U0BOB", has="Waiting for you (0)")
    thread = await mention(slack, "call restart_service " + json.dumps({"service": service}))
    await wait_card(slack, thread, timeout=30)
    quoted = json.dumps(service).replace("`", "\\u0060")  # a backtick would end the code
    await home_of(slack, "U0BOB", has=f"`service={quoted}`")


async def test_the_home_shows_a_plain_value_as_it_is(
    slack: LocalSlack, start_bot: BotFactory
) -> None:
    await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    await slack.open_app_home(user="U0BOB")
    await home_of(slack, "U0BOB", has="Waiting for you (0)")
    thread = await mention(slack, 'call restart_service {"service": "api web"}')
    await wait_card(slack, thread, timeout=30)
    await home_of(slack, "U0BOB", has="`service=api web`")


@pytest.mark.parametrize(
    ("prefix", "shown"),
    [(None, "prefix=null"), ("None", "prefix=None"), ("null", 'prefix="null"')],
    ids=repr,
)
async def test_the_home_tells_a_string_from_the_value_it_names(
    slack: LocalSlack,
    start_bot: BotFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    prefix: str | None,
    shown: str,
) -> None:
    # Python's str() drew None as "None", as the string "None" is drawn: Approve on the
    # Home purged every page while the line read a prefix.
    await start_bot(
        tool_modules=(tool_module(tmp_path, monkeypatch, "purge_tools_home", PURGE_TOOL),)
    )
    await slack.wait_for_sockets(1, timeout=5)
    await slack.open_app_home(user="U0BOB")
    await home_of(slack, "U0BOB", has="Waiting for you (0)")
    asked = json.dumps({"prefix": prefix})
    await wait_card(slack, await mention(slack, f"call purge_cache {asked}"), timeout=30)
    await home_of(slack, "U0BOB", has=f"`{shown}`")
