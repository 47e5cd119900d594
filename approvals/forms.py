"""Forms: a modal the bot opened for one person's click, and only that.

When someone clicks Deny (or Approve on a tool that needs a reason, or Edit & approve),
the bot records a form here under a key of its own (``new_form_key``) with the kind of
form, the approval, the person and the hash of the arguments the form shows, and then
opens the modal with that key as its ``external_id``: a submission may reach the bot
before Slack's answer to ``views.open`` does. A submission is accepted only for a key
recorded here (its view's ``external_id``; before signoff set one, Slack's view id, which
a form recorded by an older version holds), of the kind its callback says, from the same
person, once: a forged ``view_submission`` for a view the bot never opened, or from
someone else, names nothing. ``peek_form`` reads without using it up, for a submission
that is sent back with errors and submitted again.

Forms are removed (``prune_forms``, from the sweep) once their request is decided and
they are ``FORM_KEPT`` old: a late submission of a decided request's modal is told so
until then, and ``forms/`` holds what a month of modals left, not every one ever opened.
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from sessions import (
    AlreadyExistsError,
    Home,
    NotFoundError,
    Record,
    SessionsError,
    check_approval_id,
    check_slack_id,
    create_only,
    from_utc_iso,
)

from .errors import ApprovalsError
from .request import ApprovalRequest

__all__ = [
    "FORM_KEPT",
    "Form",
    "FormKind",
    "new_form_key",
    "peek_form",
    "prune_forms",
    "record_form",
    "take_form",
    "used_form",
]

FormKind = Literal["deny", "approve", "edit"]
FORM_KEPT = timedelta(days=30)


class Form(Record):
    # 2: forms of several kinds, with the hash of the arguments they showed.
    schema_version: Literal[1, 2] = 2
    # The key a submission names: the external_id signoff gave the view (Slack's view id
    # in a form recorded before it set one).
    view_id: str
    approval_id: str
    user: str
    opened_at: str
    kind: FormKind = "deny"
    args_sha256: str = ""


def new_form_key() -> str:
    """Unguessable, and unique in the workspace as Slack requires of an ``external_id``."""
    return f"SF{secrets.token_hex(10).upper()}"


def _path(home: Home, form_key: str) -> Path:
    return home.root / "forms" / f"{check_slack_id(form_key)}.json"


def record_form(home: Home, form: Form) -> None:
    check_approval_id(form.approval_id)
    path = _path(home, form.view_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        create_only(path, form.model_dump_json().encode())
    except AlreadyExistsError:
        pass  # the same view recorded twice (a retried open): the first record stands


def _read(path: Path, user: str, kind: FormKind) -> Form | None:
    try:
        form = Form.model_validate_json(path.read_bytes())
    except (FileNotFoundError, ValidationError, ValueError):
        return None
    return form if form.user == user and form.kind == kind else None


def peek_form(home: Home, *, form_key: str, user: str, kind: FormKind) -> Form | None:
    """The form this view is, if the bot opened it for ``user`` as ``kind`` (not used up)."""
    return _read(_path(home, form_key), user, kind)


def used_form(home: Home, *, form_key: str, user: str, kind: FormKind) -> Form | None:
    """The form this view was, if the bot opened it for ``user`` as ``kind`` and it was
    taken already (a view submitted again), or None."""
    return _read(_path(home, form_key).with_suffix(".used"), user, kind)


def take_form(home: Home, *, form_key: str, user: str, kind: FormKind) -> Form | None:
    """Like ``peek_form``, and uses the form up: it can be taken once."""
    form = peek_form(home, form_key=form_key, user=user, kind=kind)
    if form is None:
        return None
    path = _path(home, form_key)
    try:
        # Consumed by a rename, so two submissions of one view cannot both be taken.
        path.rename(path.with_suffix(".used"))
    except FileNotFoundError:
        return None
    return form


def prune_forms(home: Home, *, now: datetime, kept: timedelta = FORM_KEPT) -> int:
    """Remove the forms opened before ``now - kept`` whose request is decided (or gone):
    how many. A form of a request still waiting stays, however old."""
    directory = home.root / "forms"
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return 0
    before, removed = now - kept, 0
    for entry in entries:
        try:
            form = Form.model_validate_json(Path(entry.path).read_bytes())
            if from_utc_iso(form.opened_at) >= before or _waiting(home, form.approval_id):
                continue
        except (OSError, ValidationError, ValueError):
            continue  # not a form this version reads: left for a person to look at
        Path(entry.path).unlink(missing_ok=True)
        removed += 1
    return removed


def _waiting(home: Home, approval_id: str) -> bool:
    try:
        return ApprovalRequest.open(home, approval_id).decision() is None
    except NotFoundError:
        return False  # gone: no submission of its form can count
    except (SessionsError, ApprovalsError):
        return True  # unreadable now (maybe for a moment): kept, as if waiting
