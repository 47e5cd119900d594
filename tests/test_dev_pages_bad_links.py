"""A link into the signoff pages of ``signoff dev`` that names no thread says what is wrong
with it: a channel or a thread_ts that is there but malformed was answered "channel and
thread_ts are required"."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.dev_pages import DevPages
from sessions import Home


async def test_a_malformed_thread_link_is_a_400_that_names_the_part(
    make_engine: Any, home: Home
) -> None:
    pages = DevPages(home, team="T0LOCAL", people={})
    pages.engine = await make_engine()
    app = web.Application()
    app.add_routes(pages.routes())
    async with TestClient(TestServer(app)) as client:
        for query, said in (
            ("channel=C0OPS&thread_ts=abc", "thread_ts: not a valid Slack timestamp: 'abc'"),
            ("channel=../x&thread_ts=1.2", "channel: not a valid Slack id"),
            ("thread_ts=1.2", "channel and thread_ts are required"),
        ):
            answer = await client.get(f"/signoff/thread?{query}")
            assert answer.status == 400, query
            text = await answer.text()
            assert said in text and "\n" not in text, (query, text)
