"""Events signoff acts on at once and never stores: ``app_home_opened`` and
``subteam_members_changed``.

Both are ``handled`` by a hook called on the socket thread, which must only hand the work
to the loop it is done on. A malformed ``app_home_opened`` is quarantined like a message: a
person opened their Home and saw nothing. A malformed ``subteam_members_changed`` is
dropped: the members live in Slack and are read again within the minute
(``SlackGroups``), so a record would be one more thing to review with nothing in it a
person could act on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import JsonValue, ValidationError

from .envelopes import Fate, Outcome
from .event_payloads import GroupMembersCallback, HomeOpenedCallback
from .slack_fields import describe

__all__ = [
    "HANDLED",
    "GroupChange",
    "GroupChangedHook",
    "HomeOpenedHook",
    "Malformed",
    "handle_event",
]

HOME_OPENED = "app_home_opened"
GROUP_MEMBERS = "subteam_members_changed"
HANDLED = (HOME_OPENED, GROUP_MEMBERS)


@dataclass(frozen=True, kw_only=True)
class GroupChange:
    """A user group's members changed: who joined and who left."""

    group: str
    added: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def people(self) -> tuple[str, ...]:
        """Everyone whose membership changed: what they may decide may have too."""
        return (*self.added, *self.removed)


HomeOpenedHook = Callable[[str], None]
GroupChangedHook = Callable[[GroupChange], None]


@dataclass(frozen=True)
class Malformed:
    """The payload is for signoff and malformed: keep it for a person, saying ``why``."""

    why: str


def handle_event(
    payload: JsonValue,
    *,
    kind: str,
    ref: str,
    on_home_opened: HomeOpenedHook | None,
    on_group_changed: GroupChangedHook | None,
) -> Outcome | Malformed:
    """Act on one event of a ``HANDLED`` kind, or say why it must be quarantined."""
    if kind == GROUP_MEMBERS:
        try:
            changed = GroupMembersCallback.model_validate(payload).event
        except ValidationError as exc:
            return Outcome(fate=Fate.DROPPED, reason=f"{GROUP_MEMBERS}: {describe(exc)}", ref=ref)
        if on_group_changed is None:
            return Outcome(fate=Fate.IGNORED, reason=f"{GROUP_MEMBERS} (not followed)", ref=ref)
        on_group_changed(
            GroupChange(
                group=changed.subteam_id,
                added=changed.added_users,
                removed=changed.removed_users,
            )
        )
        return Outcome(fate=Fate.HANDLED, reason=GROUP_MEMBERS, ref=ref)
    try:
        opened = HomeOpenedCallback.model_validate(payload).event
    except ValidationError as exc:
        return Malformed(describe(exc))
    if opened.tab != "home" or on_home_opened is None:
        tab = f"{opened.tab} tab" if opened.tab else "no tab"
        return Outcome(fate=Fate.IGNORED, reason=f"{HOME_OPENED} ({tab})", ref=ref)
    on_home_opened(opened.user)
    return Outcome(fate=Fate.HANDLED, reason=HOME_OPENED, ref=ref)
