"""The signoff pages of ``signoff dev`` run no script, whatever a trace holds.

They show what people, models and tools wrote, escaped; and they are served next to the
chat's API, which posts as anyone and clicks any button. So each page also tells the
browser to run no script and load nothing (its style is inline): a slip in escaping one
day is text on a page, not a click on Approve.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from engine_support import THREAD, message

from bot.dev_pages import DevPages
from sessions import Home

HOSTILE = '<script>alert(1)</script> "><img src=x onerror=alert(2)>'


async def test_every_signoff_page_forbids_script(make_engine: Any, home: Home) -> None:
    engine = await make_engine()
    await engine.ingest(message(f"<@U0SIGNOFF> restart api {HOSTILE}", ts=THREAD.thread_ts))
    await engine.idle()
    [session] = await engine.sessions()
    pages = DevPages(home, team="T0LOCAL", people={"U0ALICE": "alice"})
    pages.engine = engine
    app = web.Application()
    app.add_routes(pages.routes())
    thread = f"/signoff/thread?channel=C0NONE&thread_ts={THREAD.thread_ts}"
    async with TestClient(TestServer(app)) as client:
        for path in ("/signoff/", f"/signoff/trace/{session.id}", thread):
            answer = await client.get(path)
            assert answer.status == 200, path
            assert "<script>" not in await answer.text()
            policy = answer.headers.get("Content-Security-Policy", "")
            assert "default-src 'none'" in policy and "script-src" not in policy, path
            assert "frame-ancestors 'none'" in policy, path
