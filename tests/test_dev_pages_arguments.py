"""The playground's pages show a call's arguments as they run, as the card does.

A browser draws ``\\u202eipa`` as "api", and the approvals and trace pages wrote the
arguments as they were (spaces collapsed too): the pages README calls "the data
``/signoff trace`` gives" showed another call than the one waiting. Now they pass
``visible``, as the card, the Home tab and ``/signoff trace`` do.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from engine_support import THREAD, message

from bot.dev_pages import DevPages
from sessions import Home


async def test_the_pages_show_what_an_argument_hides(make_engine: Any, home: Home) -> None:
    engine = await make_engine()
    await engine.ingest(message("call restart_service service=\u202eipa", ts=THREAD.thread_ts))
    await engine.idle()
    (waiting,) = await engine.waiting()
    assert waiting.capsule.arguments == {"service": "\u202eipa"}
    pages = DevPages(home, team="T0LOCAL", people={"U0ALICE": "alice"})
    pages.engine = engine
    app = web.Application()
    app.add_routes(pages.routes())
    async with TestClient(TestServer(app)) as client:
        for path in ("/signoff/", f"/signoff/trace/{waiting.capsule.session_id}"):
            answer = await client.get(path)
            assert answer.status == 200, path
            shown = await answer.text()
            assert "\u202e" not in shown, path  # the records' JSON too, the message in it
            assert "\\u202eipa" in shown, path
