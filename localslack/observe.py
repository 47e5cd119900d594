"""The observing half of the control API: wait for and read what the app did."""

from __future__ import annotations

import asyncio

from localslack.deliveries import Delivery, DeliveryPredicate
from localslack.errors import ControlError
from localslack.faults import Fault
from localslack.records import JSON
from localslack.runtime import Runtime
from localslack.watch import Predicate, message_filter
from localslack.webapi import ApiCall, WebApi

__all__ = ["Observations"]


class Observations:
    """Mixed into LocalSlack (via Controls); read-only except for waiting."""

    _rt: Runtime
    _api: WebApi

    def describe(self) -> JSON:
        """Where to connect and who exists: enough for a test or UI to get its bearings."""
        rt, cfg = self._rt, self._rt.config
        return {
            "url": rt.base_url,
            "api_url": f"{rt.base_url}/api/",
            "team": {"id": cfg.team_id, "name": cfg.team_name, "domain": cfg.team_domain},
            "bot": {
                "user_id": cfg.bot.user_id,
                "bot_id": cfg.bot.bot_id,
                "app_id": cfg.bot.app_id,
                "name": cfg.bot.name,
            },
            "bot_token": cfg.bot_token,
            "app_token": cfg.app_token,
            "users": [{"id": u.id, "name": u.name} for u in cfg.users],
            "channels": [
                {
                    "id": c.id,
                    "name": c.name,
                    "is_private": c.is_private,
                    "members": sorted(c.members),
                }
                for c in rt.workspace.named_channels()
            ],
            "ims": [
                {"id": c.id, "user": c.im_user} for c in rt.workspace.channels.values() if c.is_im
            ],
            "groups": [
                {"id": g.id, "handle": g.handle, "members": list(g.members)}
                for g in rt.workspace.groups.values()
            ],
            "subscribed_events": list(cfg.subscribed_events),
        }

    async def wait_for_message(
        self,
        predicate: Predicate | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a bounded wait is the point of this API
        channel: str | None = None,
        thread_ts: str | None = None,
        text_contains: str | None = None,
        from_bot: bool | None = None,
        user: str | None = None,
        after_ts: str | None = None,
    ) -> JSON:
        """First stored message (existing or future, posted or edited) matching the predicate
        and the filters; the dict carries its `channel`. Raises TimeoutError."""
        filters = message_filter(
            channel=channel,
            thread_ts=thread_ts,
            text_contains=text_contains,
            from_bot=from_bot,
            user=user,
            after_ts=after_ts,
        )

        def matches(message: JSON) -> bool:
            return filters(message) and (predicate is None or predicate(message))

        ws = self._rt.workspace
        async with asyncio.timeout(timeout):
            return await ws.watch.wait(matches, existing=list(ws.all_messages()))

    async def wait_for_ephemeral(
        self,
        predicate: Predicate | None = None,
        *,
        user: str | None = None,
        text_contains: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a bounded wait is the point of this API
    ) -> JSON:
        def matches(message: JSON) -> bool:
            return (
                user in (None, message.get("recipient"))
                and (text_contains is None or text_contains in str(message.get("text", "")))
                and (predicate is None or predicate(message))
            )

        ws = self._rt.workspace
        existing = [e.to_dict() for e in ws.ephemerals if not e.deleted]
        async with asyncio.timeout(timeout):
            return await ws.ephemeral_watch.wait(matches, existing=existing)

    async def wait_for_delivery(
        self,
        predicate: DeliveryPredicate,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a bounded wait is the point of this API
    ) -> Delivery:
        async with asyncio.timeout(timeout):
            return await self._rt.hub.log.wait(predicate)

    async def wait_for_ack(
        self,
        envelope_id: str,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a bounded wait is the point of this API
    ) -> Delivery:
        """The delivery once acked and the ack's side effects are applied."""
        return await self.wait_for_delivery(
            lambda d: d.envelope_id == envelope_id and d.settled, timeout=timeout
        )

    async def wait_for_sockets(
        self,
        count: int = 1,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a bounded wait is the point of this API
    ) -> None:
        async with asyncio.timeout(timeout):
            await self._rt.hub.wait_for_sockets(count)

    async def wait_for_connections(
        self,
        total: int,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a bounded wait is the point of this API
    ) -> None:
        """Wait until `total` sockets have connected since start (so reconnects are visible)."""
        async with asyncio.timeout(timeout):
            await self._rt.hub.wait_for_handshakes(total)

    def message(self, *, channel: str, ts: str) -> JSON | None:
        found = self._rt.workspace.get(channel, ts)
        return None if found is None else {**found, "channel": channel}

    def messages(self, *, channel: str) -> list[JSON]:
        return [{**m, "channel": channel} for m in self._rt.workspace.messages(channel)]

    def thread(self, *, channel: str, ts: str) -> list[JSON]:
        parent = self._rt.workspace.thread_parent(channel, ts)
        if parent is None:
            raise ControlError("thread_not_found", f"{channel}/{ts}", status=404)
        replies = self._rt.workspace.replies(channel, parent["ts"])
        return [{**m, "channel": channel} for m in (parent, *replies)]

    def ephemeral_messages(self, *, user: str, channel: str | None = None) -> list[JSON]:
        items = self._rt.workspace.ephemerals_for(recipient=user, channel=channel)
        return [e.to_dict() for e in items]

    def files(self) -> list[JSON]:
        rt = self._rt
        return [
            f.to_api(base_url=rt.base_url, team_id=rt.config.team_id)
            for f in rt.workspace.files.values()
            if f.completed
        ]

    def file_content(self, file_id: str) -> bytes:
        stored = self._rt.workspace.files.get(file_id)
        if stored is None or stored.content is None:
            raise ControlError("file_not_found", file_id, status=404)
        return stored.content

    def open_views(self, *, user: str | None = None) -> list[JSON]:
        return [
            {**v.to_api(), "user": v.user, "errors": v.errors}
            for v in self._rt.views.open_views(user=user)
        ]

    def calls(self, method: str | None = None) -> list[ApiCall]:
        return [c for c in self._api.calls if method in (None, c.method)]

    def deliveries(self, *, type: str | None = None, kind: str | None = None) -> list[Delivery]:
        return [
            d for d in self._rt.hub.log.items if type in (None, d.type) and kind in (None, d.kind)
        ]

    def sockets(self) -> list[JSON]:
        return [s.to_dict() for s in self._rt.hub.sockets()]

    def pending_faults(self) -> list[Fault]:
        return self._api.faults.pending()
