"""A file the chat serves runs nothing: localslack's ``/_ui/files/{id}`` served an upload
with its own type, so an SVG holding a script, opened from the chat, ran it in the
playground's origin (where its pages post as the bot). Each file is now served with a
``sandbox`` policy, which gives it an origin of its own and no scripts, and with
``nosniff``."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack, WorkspaceConfig

SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg"><script>'
    "fetch('/_ui/api/post', {method: 'POST'})</script></svg>"
)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(var, raising=False)


@pytest.mark.parametrize(
    ("name", "kind"), [("drawing.svg", "image/svg+xml"), ("a.txt", "text/plain")]
)
async def test_an_uploaded_file_is_served_sandboxed(name: str, kind: str) -> None:
    async with LocalSlack(WorkspaceConfig()) as slack, aiohttp.ClientSession() as http:
        web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        uploaded = await web.files_upload_v2(channel="C0OPS", content=SVG, filename=name)
        file_id = uploaded["files"][0]["id"]
        async with http.get(f"{slack.url}/_ui/files/{file_id}") as response:
            assert response.status == 200
            assert await response.text() == SVG
            policy = response.headers["Content-Security-Policy"]
            assert "sandbox" in policy and "default-src 'none'" in policy, policy
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.content_type in (kind, "text/plain")
