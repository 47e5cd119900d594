"""A card Slack refused for good: its people hear of it where Slack still lets signoff say so.

A card Slack will not post (its blocks, its length, an approvals channel archived) while
the asking thread takes posts: the thread says so once (``tell_thread``), with where
approvers can still decide it, or the request waited unseen until it expired.

When the channel a card is in was archived, deleted, or signoff was removed from it, the
card can no longer be updated and the thread takes no reply: the entry is given up (and
logged), and nobody who asked would learn that their request was decided, or how the
approved call ended; nor would whoever decided it on a card that still showed its
buttons. So the askers and the deciders are told in their direct message with signoff:
the card as it stands now (a decided card has no buttons left), or, for a card Slack
would not even post, the askers, that approvers can still decide from their Home tab.

A courtesy beside the entry's own record: its failure is logged, never retried, and is
no reason to retry the card. Once per card version: the same version refused again (a
later entry that renders alike, the card shown again after a click) is not told again,
by this process (``told``) or after a restart (the outbox records the version each
refused entry tried to show: ``CardView.told_refused``); a crash between this note and
the entry's record may repeat it.
"""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient

from agent_core.recent_keys import RecentKeys
from agent_core.surface import CardView
from approvals import Capsule
from sessions import OutboxEntry

from .cards import card_blocks, fallback_text
from .listeners import failure
from .message_metadata import metadata, ours, thread_messages
from .slack_answers import CLOSED
from .slack_calls import posting
from .slack_text import Mrkdwn, channel_link, escape, join, literal

__all__ = ["tell_people", "tell_refused", "tell_thread"]

log = logging.getLogger("signoff.slack")


def _where_to_decide(capsule: Capsule, where: Mrkdwn, reason: str) -> Mrkdwn:
    return join(
        literal("⚠️ `"),
        escape(capsule.tool),
        literal("` needs a person's approval, but I could not post the request "),
        where,
        literal(" (Slack: "),
        escape(reason),
        literal(
            "). Approvers can still decide it from signoff's Home tab; an operator can "
            "see it with `signoff pending`."
        ),
    )


async def tell_thread(
    client: AsyncWebClient, entry: OutboxEntry, capsule: Capsule, *, reason: str
) -> None:
    """The asking thread hears that the request's card was refused for good (``reason``):
    it would hear nothing until the decision. Said once (looked for first: a crash may come
    before the entry is recorded failed, and each later version meets the same refusal)."""
    routed = capsule.card_channel
    where = join(literal("in "), channel_link(routed)) if routed else literal("here")
    try:
        async for message in thread_messages(client, capsule.thread):
            if ours(message).get("refused") == capsule.id:
                return
        await posting(client).chat_postMessage(
            channel=capsule.thread.channel,
            thread_ts=str(capsule.thread.thread_ts),
            text=_where_to_decide(capsule, where, reason),
            metadata=metadata(entry.id, refused=capsule.id),
        )
    except Exception as exc:  # a courtesy: the card's own failure is what is recorded
        log.warning(
            "could not tell %s its card was refused: %s", capsule.thread.label(), failure(exc)
        )


def _people(view: CardView) -> tuple[str, ...]:
    """Who asked (unless the conversation goes on in their direct message), and who
    decided (signoff's own expiry is nobody): each once."""
    deciders = view.decision.deciders if view.decision is not None else ()
    askers = () if view.capsule.card_channel else view.capsule.askers
    people = dict.fromkeys((*askers, *deciders))
    return tuple(who for who in people if who[:1] in ("U", "W"))


async def tell_people(
    client: AsyncWebClient,
    view: CardView,
    *,
    error: str,
    posted: bool,
    bot_user: str,
    told: RecentKeys[str],
) -> None:
    """Tell the people of ``view``'s request what its card cannot show, if ``error`` (Slack's
    answer to posting or updating the card, given up) closes its conversation; ``posted``:
    the card is in Slack (``error`` answered its update); ``told``: the versions told so."""
    capsule = view.capsule
    # Not a card deleted in a thread that still takes replies: the conversation there says
    # how the request ended (a card routed from a direct message: to the asker, there).
    if error not in CLOSED or (capsule.card_channel and view.decision is None):
        return
    if view.decision is None and (posted or view.changed):
        # A vote or an escalation: the decision to come is what they wait for; a card
        # never posted was said once, with its first version.
        return
    version = f"{capsule.id} {view.version} {posted}"
    if version in told or (view.version, error) in view.told_refused():  # or before a restart
        return
    told.add(version)
    where = join(literal("About a request in "), channel_link(capsule.thread.channel))
    blocks: list[dict[str, object]] = []
    if view.decision is not None:
        what = "could not be updated" if posted else "could not be posted"
        note = join(
            where,
            literal(f": its card there {what} (Slack: "),
            escape(error),
            literal("), so this is how it stands."),
        )
        blocks = [
            {"type": "section", "text": {"type": "mrkdwn", "text": note}},
            *card_blocks(view, bot_user=bot_user),
        ]
        text = join(note, literal("\n"), fallback_text(view))
    else:
        text = join(where, literal(": "), _where_to_decide(capsule, literal("there"), error))
    poster = posting(client)  # a 429 is waited out; nothing else is tried again
    for person in _people(view):
        try:
            # A user id as the channel: their DM with the app (the Messages tab).
            await poster.chat_postMessage(channel=person, text=text, blocks=blocks or None)
        except Exception as exc:
            log.warning(
                "could not tell %s about %s, whose card Slack refused (%s): %s",
                person,
                capsule.id,
                error,
                failure(exc),
            )


async def tell_refused(
    client: AsyncWebClient,
    entry: OutboxEntry,
    view: CardView,
    *,
    error: str,
    posted: bool,
    bot_user: str,
    told: RecentKeys[str],
) -> None:
    """Say what a card Slack refused for good (``error``) cannot show: in the asking thread,
    for a request's first card, when that thread takes posts (always, for a card routed
    from a direct message); else to its people (``tell_people``)."""
    # A card routed from a direct message: the asking thread takes posts whatever the card's
    # channel says.
    routed = bool(view.capsule.card_channel)
    if not posted and view.decision is None and (routed or error not in CLOSED):
        await tell_thread(client, entry, view.capsule, reason=error)
    else:
        await tell_people(client, view, error=error, posted=posted, bot_user=bot_user, told=told)
