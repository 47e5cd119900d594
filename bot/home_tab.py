"""Keeping each person's Home tab true: published when they open it, refreshed on change.

``HomeTab`` is an ``Observer``: the engine and delivery report every change to a request
(asked, carded, voted, decided, expired, ran), from whichever process made it, since the
bot delivers every card. A change marks the request; after a short debounce the people it
concerns (``Engine.concerned``: who asked, voted or decided, and who may decide) get
their Home published again — only those who opened it, as Slack sends
``app_home_opened`` every time a person opens it, so nobody else needs one. Who opened it
is kept on disk (``sessions.HomeViewers``): a Home drawn before a restart stays true, and
is drawn again at start (the policy may have changed, and what changed meanwhile was
reported to no process). People who join or leave an approver group are named like a
change (``members_changed``): what they may decide changed with no request changing.

One person's Home is published at a time, most wanted first: the people who opened
theirs or clicked in it just now, then those a change names, then everyone's for a change
to a request anyone may decide (with thousands of viewers that is minutes of Slack's rate
limit, and a person who opens their Home must not wait behind it).

A click from the Home tab is answered there, on top of the tab (``home_notices``), not in
a thread the person is not looking at.

Observers are called on whatever thread reports; everything here then runs on the loop
the engine lives on (``bind``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Iterable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from agent_core.cancelling import cancel_and_wait
from agent_core.engine import Engine
from agent_core.observe import (
    ApprovalExpired,
    ApprovalRequested,
    CardPosted,
    CardUpdated,
    DecisionRecorded,
    Event,
    ToolExecuted,
    VoteRecorded,
)
from approvals import ApprovalsError
from sessions import HomeViewers, SessionsError, off_loop

from .home import HomeContent, home_view
from .home_content import read_home_content
from .home_notices import Notices
from .home_watch import ShownVersions, read_again
from .membership import ChannelMembers
from .slack_errors import slack_error
from .slack_text import Mrkdwn
from .user_teams import Origins

__all__ = ["HomeTab"]

log = logging.getLogger("signoff.home")

_CHANGES = (
    ApprovalRequested,
    CardPosted,
    CardUpdated,
    VoteRecorded,
    DecisionRecorded,
    ApprovalExpired,
)


class HomeTab:
    def __init__(
        self,
        *,
        viewers: HomeViewers | None = None,
        debounce: float = 0.3,
        notice_ttl: float = 120.0,
        max_people: int = 10_000,
    ) -> None:
        self.viewers = viewers
        self.debounce = debounce
        self.max_people = max_people
        self._engine: Engine | None = None
        self._client: AsyncWebClient | None = None
        self._bot_user = ""
        self._members: ChannelMembers | None = None
        self._origins: Origins | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # People who opened their Home (this process or one before), least recent first.
        self._opened: OrderedDict[str, None] = OrderedDict()
        self._notices = Notices(ttl=notice_ttl)
        self._changed: set[str] = set()
        self._shown = ShownVersions()
        # Whose Home to publish, in three queues by how much it is wanted (first: opened
        # or clicked in just now; then named by a change; then everyone, for a change to
        # a request anyone may decide). Dicts keep the order people were queued in.
        self._people: dict[str, None] = {}
        self._named: dict[str, None] = {}
        self._everyone: dict[str, None] = {}
        self._flush: asyncio.TimerHandle | None = None
        self._running: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    def bind(
        self,
        engine: Engine,
        client: AsyncWebClient,
        *,
        bot_user: str,
        origins: Origins | None = None,
    ) -> None:
        """Attach to the engine and its loop (call on that loop, once both exist);
        ``bot_user``: signoff's own user id (auth.test); ``origins``: which organization a
        viewer is in (a guest's Home lists only what their click may decide)."""
        self._engine = engine
        self._origins = origins
        self._bot_user = bot_user
        self._client = client
        self._members = ChannelMembers(client)
        self._loop = asyncio.get_running_loop()
        if self.viewers is not None:
            for user in self.viewers.load(limit=self.max_people):
                self._opened[user] = None
        # What they show was drawn by the process before, under its policy, and what
        # changed while no bot ran reported nothing here: each is drawn again, last
        # opened first, behind every Home asked for or named by a change meanwhile.
        for user in reversed(self._opened):
            self._everyone[user] = None
        if self._everyone:
            self._schedule(self.debounce)

    # what reports here -------------------------------------------------------------
    def emit(self, event: Event) -> None:
        approval_id = event.approval_id if isinstance(event, (*_CHANGES, ToolExecuted)) else None
        if approval_id and self._loop is not None and self._opened:
            if isinstance(event, (DecisionRecorded, ApprovalExpired)):
                by = event.user if isinstance(event, DecisionRecorded) else ""
                self._loop.call_soon_threadsafe(self._notices.decided, approval_id, by)
            self._loop.call_soon_threadsafe(self._mark, approval_id, None)

    def opened(self, user: str) -> None:
        """``app_home_opened`` for ``user`` (from the socket thread): publish it now."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._open, user)

    def members_changed(self, people: tuple[str, ...]) -> None:
        """People joined or left an approver group (socket thread): no request changed."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._name, people)

    def notice(self, user: str, text: Mrkdwn) -> None:
        """Show ``text`` on top of ``user``'s Home (the answer to a click made there)."""
        self._notices.give(user, text)
        self.clicked(user)

    def clicked(self, user: str) -> None:
        """``user`` clicked in their Home: it is open (even one drawn before a restart),
        so it is kept up to date from now on, starting with this click's outcome."""
        self._remember(user)
        self._mark(None, user)

    # scheduling --------------------------------------------------------------------
    def _open(self, user: str) -> None:
        self._remember(user)
        self._people[user] = None
        self._schedule(0.0)

    def _remember(self, user: str) -> None:
        if self.viewers is not None:
            if user in self._opened:
                self.viewers.seen(user)
            else:
                self.viewers.add(user)
        self._opened[user] = None
        self._opened.move_to_end(user)
        while len(self._opened) > self.max_people:
            self._opened.popitem(last=False)

    def _mark(self, approval_id: str | None, user: str | None) -> None:
        if approval_id is not None:
            self._changed.add(approval_id)
        if user is not None:
            self._people[user] = None
        self._schedule(self.debounce)

    def _name(self, people: Iterable[str]) -> None:
        """Queue the Homes of ``people`` who have one, as a change that names them."""
        for person in people:
            if person in self._opened:
                self._named[person] = None
                self._schedule(self.debounce)

    def _schedule(self, delay: float) -> None:
        if self._loop is None:
            return  # closed
        self._idle.clear()
        if self._running is not None:
            return  # the running flush looks again when it ends
        if self._flush is not None:
            if delay > 0:
                return
            self._flush.cancel()
        assert self._loop is not None
        self._flush = self._loop.call_later(delay, self._start)

    def _start(self) -> None:
        self._flush = None
        if self._loop is not None:
            self._running = self._loop.create_task(self._refresh())

    def _queued(self) -> bool:
        return bool(self._changed or self._people or self._named or self._everyone)

    def _next(self) -> str | None:
        """The person whose Home is most wanted, taken off every queue: what is published
        now is read now, so it is true for every change marked before."""
        for queue in (self._people, self._named, self._everyone):
            if queue:
                user = next(iter(queue))
                for other in (self._people, self._named, self._everyone):
                    other.pop(user, None)
                return user
        return None

    async def _refresh(self) -> None:
        try:
            while True:
                if self._changed:
                    changed, self._changed = self._changed, set()
                    for approval_id in changed:
                        await self._concerned(approval_id)
                    continue
                # One at a time, looking again after each: someone who opens their Home
                # meanwhile comes next, not after everyone queued before them.
                user = self._next()
                if user is None:
                    break
                await self.publish(user)
        finally:
            self._running = None
            if self._queued():
                self._schedule(self.debounce)
            else:
                self._idle.set()

    async def _concerned(self, approval_id: str) -> None:
        """Queue the people a change to ``approval_id`` concerns."""
        assert self._engine is not None
        try:
            concerned = await self._engine.concerned(approval_id)
        except (SessionsError, ApprovalsError) as exc:
            log.info("cannot tell whom %s concerns: %s", approval_id, exc)
            self._notices.concern(approval_id, ())
            return
        self._notices.concern(approval_id, concerned.people)
        self._name(sorted(concerned.people))
        if concerned.anyone:
            # Who opened theirs last first: the likeliest to be looking at it now. Not
            # those unseen for 90 days, let go of as a start does (they may have left the
            # workspace): their next app_home_opened draws theirs.
            for person in reversed(self._opened):
                if self.viewers is None or self.viewers.recent(person):
                    self._everyone[person] = None

    async def look_again(self) -> None:
        """Read again the requests published Homes show (the bot's sweep): a change no
        event reported here (``home_watch``) refreshes the people it concerns."""
        if self._engine is None or self._loop is None:
            return
        versions = await off_loop(read_again, self._shown.noted(), self._engine.card_version)
        if self._loop is not None:  # not closed meanwhile
            for approval_id in self._shown.changed(versions):
                self._mark(approval_id, None)

    async def close(self) -> None:
        """Stop refreshing (before the engine closes): what is not published stays so."""
        self._loop = None
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        if self._running is not None:
            await cancel_and_wait(self._running)
        self._idle.set()

    async def idle(self) -> None:
        """Wait until every refresh asked for so far was published (tests, shutdown)."""
        await self._idle.wait()

    async def can_see(self, channel: str, user: str, *, fresh: bool = False) -> bool:
        """Would ``user``'s Home list a request whose card is in ``channel`` (``fresh``:
        as Slack says now, not as cached; see ``ChannelMembers.can_see``)."""
        assert self._members is not None
        return await self._members.can_see(channel, user, fresh=fresh)

    # rendering and publishing ------------------------------------------------------
    async def content(self, user: str) -> HomeContent:
        assert self._engine is not None
        assert self._members is not None
        return await read_home_content(
            self._engine,
            self._members,
            user=user,
            notice=self._notices.current(user),
            bot_user=self._bot_user,
            origins=self._origins,
        )

    async def publish(self, user: str) -> None:
        assert self._client is not None
        try:
            content = await self.content(user)
            view = home_view(content)
            assert self._engine is not None
            self._shown.note(content, self._engine.card_version)
            await self._client.views_publish(user_id=user, view=view)
        except SlackApiError as exc:
            said = slack_error(exc) or "an answer that is not Slack's"
            log.warning("could not publish the Home of %s: %s", user, said)
        except Exception:  # one person's Home must never stop the others'
            log.exception("could not build the Home of %s", user)
