"""A page on another site, open in the same browser as the playground, gets nothing done
there: Chromium's own requests (an image, a no-cors fetch, a WebSocket, a form) are
refused, whatever their method, and the chat does not show in its frame."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from background_slack import BackgroundSlack

pytest.importorskip("playwright", reason="browser tests need the playwright package")

OPS = "C0OPS"
EXPECTS_POLICY_REFUSALS = True  # the frame: see conftest.page


def _serve(html: str) -> ThreadingHTTPServer:
    """A site of its own on loopback (``localhost`` is another site than ``127.0.0.1``)."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_page_elsewhere_cannot_post_or_listen(page: Any, workspace: BackgroundSlack) -> None:
    slack = workspace.slack
    api = f"{slack.url}/api/chat.postMessage?token={slack.bot_token}&channel={OPS}"
    # A link of the bot's own (its ticket unused): open, it would take the bot's events.
    link = workspace.run(workspace.client.apps_connections_open(app_token=slack.app_token))
    html = f"""<!doctype html><body><script>
      window.done = (async () => {{
        const seen = {{}};
        await new Promise((ok) => {{
          const img = new Image();
          img.onload = img.onerror = ok;
          img.src = "{api}&text=by+image";
        }});
        await fetch("{api}&text=by+fetch", {{mode: "no-cors"}}).catch(() => null);
        seen.socket = await new Promise((ok) => {{
          const ws = new WebSocket("{link["url"]}");
          ws.onopen = () => ok("open");
          ws.onerror = () => ok("refused");
        }});
        // The chat in a frame, to have a click meant for this page land on Approve.
        await new Promise((ok) => {{
          const frame = document.createElement("iframe");
          frame.onload = ok;
          frame.src = "{slack.url}/ui/";
          document.body.appendChild(frame);
        }});
        return seen;
      }})();
    </script></body>"""
    evil = _serve(html)
    try:
        page.goto(f"http://localhost:{evil.server_address[1]}/")
        seen = page.evaluate("window.done")
    finally:
        evil.shutdown()
    assert seen == {"socket": "refused"}
    [framed] = page.main_frame.child_frames
    assert framed.locator("#conn").count() == 0  # no chat in it
    assert workspace.run(_messages(slack)) == []
    assert slack.calls("chat.postMessage") == []  # refused before the Web API saw them


async def _messages(slack: Any) -> list[Any]:
    return list(slack.messages(channel=OPS))
