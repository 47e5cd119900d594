"""response_url endpoints: the only way to touch ephemeral messages, 5 uses in 30 minutes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from localslack.blockkit import validate_blocks
from localslack.config import WorkspaceConfig
from localslack.errors import SlackError
from localslack.ids import Clock, IdSource
from localslack.messages import MessageOps
from localslack.records import JSON
from localslack.state import Workspace

__all__ = ["ResponseTarget", "ResponseUrls"]


@dataclass
class ResponseTarget:
    token: str
    channel: str
    user: str
    created_at: float
    source_ts: str | None = None
    source_ephemeral: bool = False
    thread_ts: str | None = None
    uses: int = 0


def _reply(status: int, error: str | None = None) -> web.Response:
    body = {"ok": True} if error is None else {"ok": False, "error": error}
    return web.json_response(body, status=status)


class ResponseUrls:
    def __init__(
        self,
        *,
        config: WorkspaceConfig,
        workspace: Workspace,
        messages: MessageOps,
        ids: IdSource,
        clock: Clock,
    ) -> None:
        self._timing = config.timing
        self._ws = workspace
        self._messages = messages
        self._ids = ids
        self._clock = clock
        self._targets: dict[str, ResponseTarget] = {}
        self.base_url = ""

    def issue(
        self,
        *,
        channel: str,
        user: str,
        source_ts: str | None = None,
        source_ephemeral: bool = False,
        thread_ts: str | None = None,
    ) -> str:
        token = self._ids.secret()
        self._targets[token] = ResponseTarget(
            token=token,
            channel=channel,
            user=user,
            created_at=self._clock(),
            source_ts=source_ts,
            source_ephemeral=source_ephemeral,
            thread_ts=thread_ts,
        )
        return f"{self.base_url}/response/{token}"

    async def handle(self, request: web.Request) -> web.Response:
        target = self._targets.get(request.match_info["token"])
        if target is None:
            return _reply(404, "no_service")
        # The exact bodies Slack returns for spent URLs are undocumented; the SDK ignores them.
        if self._clock() - target.created_at > self._timing.response_url_ttl:
            return _reply(404, "expired_url")
        if target.uses >= self._timing.response_url_max_uses:
            return _reply(404, "used_url")
        body = await _read_body(request)
        if body is None:
            return _reply(400, "invalid_payload")
        blocks = body.get("blocks")
        if blocks is not None and (not isinstance(blocks, list) or validate_blocks(blocks)):
            return _reply(400, "invalid_blocks")
        target.uses += 1
        try:
            await self._apply(target, body)
        except SlackError as exc:
            return _reply(404, exc.code)
        return _reply(200)

    async def _apply(self, target: ResponseTarget, body: JSON) -> None:
        channel = self._ws.channels[target.channel]
        text, blocks, attachments = body.get("text"), body.get("blocks"), body.get("attachments")
        if _flag(body.get("delete_original")) and target.source_ts:
            if target.source_ephemeral:
                item = self._ws.find_ephemeral(recipient=target.user, ts=target.source_ts)
                if item is None:
                    raise SlackError("message_not_found")
                item.deleted = True
            else:
                await self._messages.delete(channel, target.source_ts)
            return
        if _flag(body.get("replace_original")) and target.source_ts:
            if target.source_ephemeral:
                item = self._ws.find_ephemeral(recipient=target.user, ts=target.source_ts)
                if item is None:
                    raise SlackError("message_not_found")
                self._messages.replace_ephemeral(
                    item, text=text, blocks=blocks, attachments=attachments
                )
            else:
                # Replacing means the whole message: absent blocks are removed, not kept.
                await self._messages.update(
                    channel,
                    target.source_ts,
                    text=text,
                    blocks=blocks or [],
                    attachments=attachments or [],
                )
            return
        # A response to an interaction inside a thread stays in that thread by default.
        thread_ts = body.get("thread_ts") or target.thread_ts
        if body.get("response_type") == "in_channel":
            await self._messages.post_bot(
                channel, text=text, blocks=blocks, attachments=attachments, thread_ts=thread_ts
            )
        else:
            self._messages.post_ephemeral(
                channel,
                recipient=target.user,
                text=text,
                blocks=blocks,
                attachments=attachments,
                thread_ts=thread_ts,
            )


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


async def _read_body(request: web.Request) -> JSON | None:
    raw = await request.text()
    if request.content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        raw = str(form.get("payload", ""))
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
