"""Who can see a channel, from Slack, with a short cache; an error fails closed.

Anyone in the workspace can read a public channel; a private channel or a group DM only
its members (and a direct message its two people). What signoff lists for a person — ``/signoff
pending``, the Home tab — names only requests whose card they can see.

Failing closed takes two shapes. Slack's verdict (``channel_not_found``,
``user_not_found``) counts as nobody in, so nothing is shown or allowed (but for a
decision ``channel_not_found`` is the second shape: it says signoff cannot see the
channel, nothing of the person). No usable answer
(a dropped connection, a timeout, a body cut short, ``ratelimited``, an outage) is
``MembershipUnknown``: its callers refuse, and tell the person signoff could not check,
never that there is nothing for them. So is Slack refusing the app the question itself
(a scope the install lacks, a revoked token: ``NOT_ASKED``), which says nothing of the
person: told "not an approver", they would be told something false, and a Home would
leave out what they may decide, without a word. Neither is cached: the next look asks
again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from approvals import MembershipUnknown

from .slack_errors import passing, slack_error, what_slack_said
from .token_watch import TOKEN_REFUSED

__all__ = ["COULD_NOT_CHECK", "NOT_ASKED", "ChannelMembers", "RecentAnswers", "slack_lookup"]

log = logging.getLogger("signoff.slack")

T = TypeVar("T")
V = TypeVar("V")

# The start of what a person is told when a lookup had no answer (see approvals.authorize).
COULD_NOT_CHECK = "signoff could not check with Slack"
# Slack's answers that refuse the app the lookup, whoever it is about: the token's (every
# method's), and a scope or a permission the install lacks (doctor names the scope).
NOT_ASKED = TOKEN_REFUSED | {
    "missing_scope",
    "not_allowed_token_type",
    "no_permission",
    "access_denied",
    "team_access_not_granted",
    "org_login_required",
}
# Asked who is in a conversation for a decision, Slack's channel_not_found is about
# signoff, not the clicker: a private channel it was removed from (or one deleted). Taken
# for "nobody is in it", a member was told they were not in the conversation the card
# they clicked is in. A list (a Home, /signoff pending) still leaves such a request out.
_DECIDING = NOT_ASKED | {"channel_not_found"}
# Channels whose answers are kept at once: a Home lists requests of far fewer.
_CHANNELS = 1000


async def slack_lookup(
    call: Awaitable[T], *, what: str, not_asked: frozenset[str] = NOT_ASKED
) -> T | None:
    """Slack's answer to a membership call; None when Slack refused it (its verdict);
    ``MembershipUnknown`` when there was no usable answer, or Slack would not let the app
    ask (``not_asked``: then its ``refused`` names Slack's answer)."""
    refused = ""
    try:
        return await call
    except SlackApiError as exc:
        code = slack_error(exc)
        if not passing(exc) and code not in not_asked:
            return None
        said = what_slack_said(exc)
        refused = code if code in not_asked else ""
    except (aiohttp.ClientError, OSError) as exc:  # TimeoutError is an OSError
        said = type(exc).__name__
    log.warning("could not learn %s from Slack: %s", what, said)
    raise MembershipUnknown(f"could not learn {what} from Slack: {said}", refused=refused)


class RecentAnswers(Generic[V]):
    """Slack's answers of the last ``ttl`` seconds by key (a channel, a person), at most
    ``size`` of them. An older one only took memory (the next look asks again), and every
    channel a card was ever in, with its member list, stayed for as long as the bot ran.

    Safe from any thread: a person's organization is asked for a stop on the socket
    thread and for a Home or ``/signoff pending`` on the engine's loop, through one cache,
    and a ``put`` walking the oldest answers to evict them while another thread's ``put``
    changed them raised ``RuntimeError``."""

    def __init__(self, ttl: float, now: Callable[[], float], size: int) -> None:
        self.ttl = ttl
        self._now = now
        self._size = size
        self._held: OrderedDict[str, tuple[float, V]] = OrderedDict()  # oldest first
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._held)

    def get(self, key: str) -> V | None:
        with self._lock:
            held = self._held.get(key)
        if held is None or self._now() - held[0] >= self.ttl:
            return None
        return held[1]

    def put(self, key: str, value: V) -> None:
        now = self._now()
        with self._lock:
            self._held.pop(key, None)
            self._held[key] = (now, value)
            while self._held:
                oldest, _ = next(iter(self._held.values()))
                if len(self._held) <= self._size and now - oldest < self.ttl:
                    break
                self._held.popitem(last=False)


class ChannelMembers:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl: float = 60.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self._cache: RecentAnswers[frozenset[str]] = RecentAnswers(ttl, now, _CHANNELS)
        self._public: RecentAnswers[bool] = RecentAnswers(ttl, now, _CHANNELS)

    async def members(self, channel: str, *, fresh: bool = False) -> frozenset[str]:
        cached = self._cache.get(channel)
        if not fresh and cached is not None:
            return cached
        found: set[str] = set()
        cursor: str | None = None
        while True:
            page = await slack_lookup(
                self.client.conversations_members(channel=channel, limit=1000, cursor=cursor),
                what=f"who is in {channel}",
                # A decision: a conversation signoff cannot see says nothing of the person.
                not_asked=_DECIDING if fresh else NOT_ASKED,
            )
            if page is None:
                return frozenset()
            found.update(str(u) for u in page.get("members") or [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        members = frozenset(found)
        self._cache.put(channel, members)
        return members

    async def is_member(self, channel: str, user: str, *, fresh: bool = False) -> bool:
        return user in await self.members(channel, fresh=fresh)

    async def is_public(self, channel: str, *, fresh: bool = False) -> bool:
        cached = self._public.get(channel)
        if not fresh and cached is not None:
            return cached
        answer = await slack_lookup(
            self.client.conversations_info(channel=channel), what=f"what {channel} is"
        )
        if answer is None:
            return False
        info = answer.get("channel") or {}
        public = bool(info.get("is_channel")) and not info.get("is_private")
        self._public.put(channel, public)
        return public

    async def can_see(self, channel: str, user: str, *, fresh: bool = False) -> bool:
        """Can ``user`` read ``channel``: a public channel, or one they are in. ``fresh``
        asks Slack who is in it whatever is cached: what a decision rests on (the cache, a
        minute old, still has someone who left the channel since). Whether it is public is
        the cache's (a minute at most): a click in a public channel, where nobody's
        membership is asked, costs no Slack call and no share of its rate limit."""
        return await self.is_public(channel) or await self.is_member(channel, user, fresh=fresh)
