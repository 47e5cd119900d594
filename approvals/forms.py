"""Forms: a modal the bot opened for one person's click, and only that.

When someone clicks Deny (or Approve on a tool that needs a reason, or Edit & approve),
the bot opens a modal and records its view id here with the kind of form, the approval,
the person and the hash of the arguments the form showed. A submission is accepted only
for a view recorded here, of the kind its callback says, from the same person, once: a
forged ``view_submission`` for a view the bot never opened, or from someone else, names
nothing. ``peek_form`` reads without using it up, for a submission that is sent back
with errors and submitted again.
"""

from __future__ import annotations

from pathlib import Path
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

__all__ = [
    "Form",
    "FormKind",
    "peek_form",
    "record_form",
    "take_form",
]

FormKind = Literal["deny", "approve", "edit"]


class Form(Record):
    # 2: forms of several kinds, with the hash of the arguments they showed.
    schema_version: Literal[1, 2] = 2
    view_id: str
    approval_id: str
    user: str
    opened_at: str
    kind: FormKind = "deny"
    args_sha256: str = ""


def _path(home: Home, view_id: str) -> Path:
    return home.root / "forms" / f"{check_slack_id(view_id)}.json"


def record_form(home: Home, form: Form) -> None:
    check_approval_id(form.approval_id)
    path = _path(home, form.view_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        create_only(path, form.model_dump_json().encode())
    except AlreadyExistsError:
        pass  # the same view recorded twice (a retried open): the first record stands


def peek_form(home: Home, *, view_id: str, user: str, kind: FormKind) -> Form | None:
    """The form this view is, if the bot opened it for ``user`` as ``kind`` (not used up)."""
    try:
        form = Form.model_validate_json(_path(home, view_id).read_bytes())
    except (FileNotFoundError, ValidationError, ValueError):
        return None
    if form.user != user or form.kind != kind:
        return None
    return form


def take_form(home: Home, *, view_id: str, user: str, kind: FormKind) -> Form | None:
    """Like ``peek_form``, and uses the form up: it can be taken once."""
    form = peek_form(home, view_id=view_id, user=user, kind=kind)
    if form is None:
        return None
    path = _path(home, view_id)
    try:
        # Consumed by a rename, so two submissions of one view cannot both be taken.
        path.rename(path.with_suffix(".used"))
    except FileNotFoundError:
        return None
    return form
