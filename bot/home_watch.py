"""Which requests the published Homes show, and as what: a change nobody reported is found.

The Home tab refreshes on the events of this process: the engine's, and delivery's card
updates, which see every change wherever it was made, because the bot delivers every
card. A change whose card cannot be updated (deleted from its channel: Slack answers
``message_not_found`` and delivery gives up) made in another process (``signoff deny`` in
a terminal) reaches no event here, and a Home that listed the request as waiting went on
offering its buttons until its person opened it again.

So each publish notes the card version (``CardView.version``) of every request it showed
that may still change — waiting, asked, or decided and not yet told — and the bot's sweep
(``HomeTab.look_again``) reads those again: one that changed is marked like any change,
and the people it concerns get their Home again. The notes are per request, dropped once
it changed (a refresh that shows it again notes it again), so they stay as many as the
requests Homes show that are still moving.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from approvals import ApprovalsError
from sessions import SessionsError

from .home import MAX_WAITING, HomeContent

__all__ = ["ShownVersions", "read_again"]

log = logging.getLogger("signoff.home")


class ShownVersions:
    def __init__(self) -> None:
        self._shown: dict[str, str] = {}

    def note(self, content: HomeContent, version: Callable[[str], str]) -> None:
        """What ``content`` shows (``version(approval_id)``: the card's version now)."""
        for item in content.waiting[:MAX_WAITING]:  # the ones it shows
            if item.view is not None:  # the view the Home was drawn from: no read
                self._shown[item.capsule.id] = item.view.version
        still = [r.capsule.id for r in content.mine]
        still += [d.capsule.id for d in content.decided if d.told is None]
        for approval_id in still:
            try:
                self._shown[approval_id] = version(approval_id)
            except (SessionsError, ApprovalsError):
                self._shown.pop(approval_id, None)  # unreadable: not listed, nothing to watch

    def noted(self) -> list[str]:
        return list(self._shown)

    def changed(self, versions: Mapping[str, str]) -> list[str]:
        """The requests whose card is no longer what a Home showed (forgotten here);
        ``versions``: what ``read_again`` found."""
        out = []
        for approval_id, now in versions.items():
            if approval_id in self._shown and self._shown[approval_id] != now:
                del self._shown[approval_id]
                out.append(approval_id)
        return out


def read_again(ids: list[str], version: Callable[[str], str]) -> dict[str, str]:
    """Each request's card version now ("": unreadable); on a disk thread (``off_loop``):
    the Homes of many people may show many requests."""
    out = {}
    for approval_id in ids:
        try:
            out[approval_id] = version(approval_id)
        except (SessionsError, ApprovalsError) as exc:
            log.info("cannot read %s again for the Home tab: %s", approval_id, exc)
            out[approval_id] = ""
    return out
