"""How many Socket Mode connections Slack counts for the app, said at ``hello``.

Slack splits an app's envelopes between its connections. Another process on this app
token keeps a home of its own: a thread's messages land apart, and an event delivered
again may go to it and be answered twice. Said once while the count stays above one (it
counts this connection, and the ones it is replacing, which are not another process).
"""

from __future__ import annotations

import logging

__all__ = ["LinkCount"]

log = logging.getLogger("signoff.socket")


class LinkCount:
    def __init__(self) -> None:
        self._told = 0  # the count last said; 0 once a hello counts one

    def hello(self, count: object, *, replaced: int) -> None:
        """A ``hello``'s ``num_connections``, with the links being replaced beside it."""
        if isinstance(count, int):
            count -= replaced
        if not isinstance(count, int) or count < 2:
            self._told = 0
            return
        if count > self._told:
            self._told = count
            log.warning(
                "Slack counts %d Socket Mode connections for this app (hello: num_connections): "
                "another process runs with this SLACK_APP_TOKEN, and Slack splits messages, "
                "clicks and commands between them (run one signoff per app), or Slack still "
                "counts an old link of this one, which ends within hours",
                count,
            )
