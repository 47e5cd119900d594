"""A message acked but not yet recorded in a session, as its thread's inbox keeps it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import SerializerFunctionWrapHandler, model_serializer, model_validator

from .records import Record, ThreadKey

__all__ = ["InboxMessage"]


class InboxMessage(Record):
    # 2: ``edited_ts``. Version 1 records have none: their text is the message's own, or
    # an edit of unknown date (applied before edits were dated). Only an edited message is
    # written as version 2; one not edited stays version 1, which a version from before
    # dated edits reads (one rolled back to finds what waits).
    schema_version: Literal[1, 2] = 1
    thread: ThreadKey
    ts: str
    user: str
    text: str
    event_id: str = ""
    received_at: str
    # The author's team (Slack's ``user_team``): for a Slack Connect guest their own
    # organization's, not the thread's. "" in records stored before it was kept: unknown.
    user_team: str = ""
    # The Slack ``edited.ts`` of the edit its text comes from ("" = as it was posted): a
    # redelivered older edit, arriving after a newer one, is told apart by it.
    edited_ts: str = ""

    @model_validator(mode="before")
    @classmethod
    def _version_of_its_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = {**data, "schema_version": 2 if data.get("edited_ts") else 1}
        return data

    @model_serializer(mode="wrap")
    def _without_an_empty_date(self, dump: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = dump(self)
        if not self.edited_ts:
            data.pop("edited_ts", None)
        return data

    @property
    def key(self) -> str:
        return self.ts
