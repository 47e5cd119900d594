"""Breaking the Socket Mode links (a disconnect frame, a dropped or silent connection,
unanswered pings, an upgrade that fails), and the app's own Socket Mode setting, as its admin toggles it in the
app's configuration page. With Socket Mode turned off, Slack sends each connection a ``disconnect`` frame with
reason ``link_disabled`` and closes it; while it stays off, so is every new connection
(whether ``apps.connections.open`` then still issues a URL is not documented: here it
does, and the connection is refused on the wire, which a client must survive either way).
Envelopes wait meanwhile, as for an app with no connection."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from localslack.runtime import Runtime

__all__ = ["SocketControls"]


class SocketControls:
    """Mixed into LocalSlack (via Controls)."""

    _rt: Runtime

    async def set_socket_mode(self, *, enabled: bool) -> list[str]:
        """Turn Socket Mode on or off for the app; the ids of the connections it closed."""
        return await self._rt.hub.set_socket_mode(enabled=enabled)

    async def disconnect_sockets(
        self,
        *,
        reason: str = "refresh_requested",
        socket_id: str | None = None,
        close_after: float | None = None,
        drain: bool | None = None,
    ) -> list[str]:
        """Say ``disconnect`` on links; after it nothing new is sent on them (``drain``),
        by default unless it is a ``warning``. Slack may still send on a link it asked to
        refresh until it closes it: ``drain=False``."""
        return await self._rt.hub.disconnect(
            reason=reason, socket_id=socket_id, close_after=close_after, drain=drain
        )

    async def close_sockets(self, *, socket_id: str | None = None) -> list[str]:
        """Close connections now, with a close frame, as Slack does a link some time after
        its ``disconnect`` (a test waits on a condition instead of ``close_after``'s timer)."""
        return await self._rt.hub.close_links(socket_id=socket_id)

    def refuse_links(self, *, reason: str | None) -> None:
        """Refuse each new connection, before its ``hello``, with a ``disconnect`` frame
        giving ``reason``, and close it (as for ``too_many_websockets``); None: stop. Slack
        documents its reasons as a list it may add to: a client meets ones it never knew."""
        self._rt.hub.refusing = reason

    def hold_hellos(self, *, held: bool) -> None:
        """While held, a new connection is accepted but gets no ``hello`` (Slack's may come
        late): a client between the upgrade and the hello can be looked at."""
        hellos = self._rt.hub.hellos
        if held:
            hellos.clear()
        else:
            hellos.set()

    def on_app_close(self, hook: Callable[[str], Awaitable[None]]) -> Callable[[], None]:
        """Run ``hook`` with a socket's id when the app's close frame on it is read, before
        Slack answers it: what is delivered meanwhile crosses the app's close on the wire,
        as envelopes Slack sent a moment before it read the close do. Returns its removal."""
        hooks = self._rt.hub.app_close_hooks
        hooks.append(hook)
        return lambda: hooks.remove(hook)

    def drop_sockets(self, *, socket_id: str | None = None) -> list[str]:
        return self._rt.hub.drop(socket_id=socket_id)

    def freeze_sockets(self, *, socket_id: str | None = None) -> list[str]:
        return self._rt.hub.freeze(socket_id=socket_id)

    def answer_pings(self, *, enabled: bool) -> None:
        self._rt.hub.answer_pings = enabled

    def fail_handshakes(self, *, count: int = 1, status: int = 503) -> None:
        """The next ``count`` WebSocket upgrades are answered ``status`` instead of a link,
        after their ticket is used up, as an edge in the way that failed: the URL
        ``apps.connections.open`` gave cannot be tried again."""
        if count < 1 or not 400 <= status <= 599:
            raise ValueError("count must be at least 1, and status an HTTP error")
        self._rt.hub.failing_handshakes = count
        self._rt.hub.failing_status = status
