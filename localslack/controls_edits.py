"""A person edits or deletes a message of theirs, as from a Slack client: the message is
changed or removed in place and subscribers get ``message_changed`` or
``message_deleted`` (docs.slack.dev/reference/events/message/message_changed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from localslack.errors import ControlError
from localslack.methods_common import MAX_TEXT_LENGTH
from localslack.records import JSON, Channel
from localslack.runtime import Runtime
from localslack.textfmt import escape_user_text, rich_text_blocks

__all__ = ["EditControls"]


class EditControls:
    _rt: Runtime

    if TYPE_CHECKING:  # Controls' own, which checks the person may write there

        def _human_channel(self, channel: str, user: str) -> Channel: ...

    def _own_message(self, channel: str, user: str, ts: str) -> tuple[Channel, JSON]:
        chan = self._human_channel(channel, user)
        message = self._rt.workspace.get(chan.id, ts)
        if message is None:
            raise ControlError("message_not_found", f"{chan.id}/{ts}", status=404)
        if message.get("user") != user or message.get("bot_id"):
            # A client offers Edit and Delete only on one's own messages.
            raise ControlError("cant_update_message", f"{user} did not write {ts}")
        return chan, message

    async def edit_message(self, *, channel: str, user: str, ts: str, text: str) -> None:
        """``user`` edits their message ``ts`` to ``text`` (escaped as a client does)."""
        chan, _ = self._own_message(channel, user, ts)
        body = escape_user_text(text)
        if len(body) > MAX_TEXT_LENGTH:
            raise ControlError("msg_too_long", "a message holds at most 40,000 characters")
        blocks = rich_text_blocks(body, block_id=self._rt.ids.block_id())
        await self._rt.messages.update(chan, ts, text=body, blocks=blocks, attachments=None)

    async def delete_message(self, *, channel: str, user: str, ts: str) -> None:
        """``user`` deletes their message ``ts``."""
        chan, _ = self._own_message(channel, user, ts)
        await self._rt.messages.delete(chan, ts)
