"""Deny forms: a modal the bot opened for one person's click, and only that.

When someone clicks Deny, the bot opens a modal and records its view id here with the
approval and the person. A submission is accepted only for a view recorded here, from
the same person, once: a forged ``view_submission`` for a view the bot never opened, or
from someone else, names nothing.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ValidationError

from sessions import (
    AlreadyExistsError,
    Home,
    Record,
    check_approval_id,
    check_slack_id,
    create_only,
)

__all__ = ["DenyForm", "record_deny_form", "take_deny_form"]


class DenyForm(Record):
    schema_version: Literal[1] = 1
    view_id: str
    approval_id: str
    user: str
    opened_at: str


def record_deny_form(home: Home, form: DenyForm) -> None:
    check_approval_id(form.approval_id)
    directory = home.root / "forms"
    directory.mkdir(parents=True, exist_ok=True)
    try:
        path = directory / f"{check_slack_id(form.view_id)}.json"
        create_only(path, form.model_dump_json().encode())
    except AlreadyExistsError:
        pass  # the same view recorded twice (a retried open): the first record stands


def take_deny_form(home: Home, *, view_id: str, user: str) -> DenyForm | None:
    """The form this view is, if the bot opened it for ``user``; it can be used once."""
    path = home.root / "forms" / f"{check_slack_id(view_id)}.json"
    try:
        form = DenyForm.model_validate_json(path.read_bytes())
    except (FileNotFoundError, ValidationError, ValueError):
        return None
    if form.user != user:
        return None
    try:
        # Consumed by a rename, so two submissions of one view cannot both be taken.
        path.rename(path.with_suffix(".used"))
    except FileNotFoundError:
        return None
    return form
