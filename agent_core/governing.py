"""What the bot may ask the engine about governance: reasons, Edit & approve, the forms
bound to the modals it opened, and the sweep of reminders and escalations.

A mixin of ``Engine``, like ``Queries``: the bot still talks to one object, and every
answer is read from disk through ``ApprovalRequest``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from approvals import (
    ApprovalRequest,
    ApprovalsError,
    Decided,
    Decision,
    DecisionResult,
    EditResult,
    Escalated,
    Origin,
    QuorumCompleted,
    expired,
    may_decide,
    record_edit,
    sweep_timers,
)
from approvals.forms import (
    Form,
    FormKind,
    new_form_key,
    peek_form,
    record_form,
    take_form,
    used_form,
)
from sessions import (
    SessionsError,
    ThreadKey,
    check_approval_id,
    check_slack_id,
    failpoint,
    utc_iso,
)

from .approval_events import quorum_decided
from .approved_call import runs_nothing
from .arg_edit import EditForm, check_arguments, edit_fields, parse_edit
from .mirror import mirror_approval
from .queries import decided_already
from .runtime import Runtime
from .tools import Tool
from .tools.base import UNLISTED

__all__ = ["Governing", "SpentForm"]


@dataclass(frozen=True)
class SpentForm:
    """A form submitted already, and its request's decision now (None: not yet, or it
    cannot be read)."""

    form: Form
    decision: Decision | None
    # The request waits with nothing of this person's on record (no vote; for an edit form,
    # the arguments it showed): the submission that used the form up recorded nothing (its
    # process was killed before it could), so it may be submitted again; the engine still
    # records a decision, a vote or an edit once.
    recorded_nothing: bool = False


class Governing:
    rt: Runtime

    if TYPE_CHECKING:
        # The Engine's; declared for the type checker only, so the order of the mixins
        # never decides which one runs.
        def wake(self, thread: ThreadKey) -> None: ...

        async def after_decision(
            self, request: ApprovalRequest, *, user: str, result: DecisionResult | EditResult
        ) -> None: ...

    def _request(self, approval_id: str) -> ApprovalRequest:
        return ApprovalRequest.open(
            self.rt.home, check_approval_id(approval_id), clock=self.rt.clock
        )

    # reasons ----------------------------------------------------------------------
    def needs_reason(self, approval_id: str) -> bool:
        """Does a decision on this request need a reason (the captured or current rule)?"""
        capsule = self._request(approval_id).capsule
        return capsule.policy.require_reason or self.rt.policy.rule_for(capsule.tool).require_reason

    def current_hash(self, approval_id: str) -> str:
        """The hash of the arguments the request now stands for (after any edit)."""
        return self._request(approval_id).current().args_sha256

    # forms bound to the modals the bot opened -------------------------------------
    def open_form(self, *, kind: FormKind, approval_id: str, user: str, args_sha256: str) -> str:
        """Record a form about to be opened; its key, for the view's ``external_id``.

        Recorded before Slack is asked: Slack shows the modal as it takes ``views.open``,
        and a submission may come before its answer (or without one)."""
        form = Form(
            view_id=new_form_key(),
            approval_id=check_approval_id(approval_id),
            user=check_slack_id(user),
            opened_at=utc_iso(self.rt.clock.now()),
            kind=kind,
            args_sha256=args_sha256,
        )
        record_form(self.rt.home, form)
        return form.view_id

    def peek_form(self, *, kind: FormKind, form_key: str, user: str) -> Form | None:
        """The form a submitted view is, if the bot opened it for ``user`` (not used up)."""
        return peek_form(self.rt.home, form_key=form_key, user=user, kind=kind)

    def take_form(self, *, kind: FormKind, form_key: str, user: str) -> Form | None:
        """Like ``peek_form``, and uses it up: a view is submitted once."""
        taken = take_form(self.rt.home, form_key=form_key, user=user, kind=kind)
        failpoint("form.after_taken")
        return taken

    def spent_form(self, *, kind: FormKind, form_key: str, user: str) -> SpentForm | None:
        """The form a view submitted again was, if the bot opened it for ``user`` and it
        was taken already, with its request's decision: what the second submission is
        told (the first counts), or whether it may be taken as the first."""
        form = used_form(self.rt.home, form_key=form_key, user=user, kind=kind)
        if form is None:
            return None
        try:
            request = self._request(form.approval_id)
            decision = request.decision()
            call = request.current()
            nothing = decision is None and all(v.user != user for v in request.votes(call.edit))
            # An edit recorded changed the arguments from those the form showed.
            nothing = nothing and (kind != "edit" or call.args_sha256 == form.args_sha256)
        except (SessionsError, ApprovalsError):
            decision, nothing = None, False
        return SpentForm(form, decision, recorded_nothing=nothing)

    # Edit & approve ---------------------------------------------------------------
    def _tool_for(self, request: ApprovalRequest) -> Tool | str:
        tool = self.rt.registry.get(request.capsule.tool)
        if tool is None:
            return f"the tool {request.capsule.tool} is no longer available"
        if tool.version == UNLISTED:
            # Its server is down, so its schema is unknown: nothing changed, it is away.
            return (
                f"the tool {request.capsule.tool} is not available right now (its server is "
                "down), so its arguments cannot be checked; try again later, or decide the "
                "request as asked"
            )
        if tool.version != request.current().tool_version:
            return "the tool changed since it was asked for; deny this and ask again"
        return tool

    async def edit_form(
        self, approval_id: str, *, user: str, origin: Origin | None = None
    ) -> EditForm | str:
        """The prefilled form for ``user`` to edit this request, or why they may not."""
        rt = self.rt
        request = self._request(approval_id)
        capsule = request.capsule
        decided = decided_already(request)
        if decided is not None:
            return decided
        if expired(capsule, rt.clock.now()):
            return "it has expired"
        if not (capsule.policy.allow_edit and rt.policy.rule_for(capsule.tool).allow_edit):
            return "the policy does not allow editing this tool's arguments"
        refusal = await may_decide(
            request, user=user, policy=rt.policy, groups=rt.groups, origin=origin
        )
        if refusal is not None:
            return refusal
        tool = self._tool_for(request)
        if isinstance(tool, str):
            return tool
        call = request.current()
        fields = edit_fields(tool.schema, call.arguments)
        if not fields:
            return f"{capsule.tool} takes no arguments to edit"
        return EditForm(
            approval_id=capsule.id,
            tool=capsule.tool,
            args_sha256=call.args_sha256,
            fields=fields,
            require_reason=self.needs_reason(approval_id),
        )

    def check_edit(
        self, approval_id: str, *, values: Mapping[str, str | None]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """(valid arguments, problems by field name) for what an editor submitted.

        Only checks: nothing is recorded, so a form sent back with problems can be
        corrected and submitted again.
        """
        request = self._request(approval_id)
        tool = self._tool_for(request)
        if isinstance(tool, str):
            return {}, {"": tool}
        fields = edit_fields(tool.schema, request.current().arguments)
        arguments, problems = parse_edit(fields, values)
        if problems:
            return {}, problems
        return check_arguments(tool, arguments)

    async def edit(
        self,
        approval_id: str,
        *,
        user: str,
        arguments: dict[str, Any],
        base_sha256: str,
        reason: str = "",
        origin: Origin | None = None,
    ) -> EditResult:
        """Record ``user``'s edit of the arguments they were shown as their approval of
        the edited call (checked again here: a caller may skip ``check_edit``)."""
        rt = self.rt
        user = check_slack_id(user)
        request = self._request(approval_id)
        tool = self._tool_for(request)
        if isinstance(tool, str):
            raise ValueError(tool)
        valid, problems = check_arguments(tool, arguments)
        if problems:
            raise ValueError("; ".join(f"{k or 'arguments'}: {v}" for k, v in problems.items()))
        result = await record_edit(
            request,
            user=user,
            arguments=valid,
            tool_version=tool.version,
            base_sha256=base_sha256,
            reason=reason,
            policy=rt.policy,
            groups=rt.groups,
            clock=rt.clock,
            origin=origin,
        )
        await self.after_decision(request, user=user, result=result)
        return result

    # the sweep --------------------------------------------------------------------
    async def sweep_governance(self) -> int:
        """Reminders, escalations and stranded quorums that are due; how many steps."""
        rt = self.rt
        steps = await sweep_timers(
            rt.home,
            policy=rt.policy,
            clock=rt.clock,
            groups=rt.groups,
            runs_nothing=partial(runs_nothing, rt),
        )
        for step in steps:
            if isinstance(step, Escalated | QuorumCompleted):
                # Escalation changes who may approve (the index lists them for /pending).
                await mirror_approval(rt, step.request)
            if isinstance(step, QuorumCompleted):
                if isinstance(step.result, Decided):
                    decided = step.result.decision
                    rt.observer.emit(quorum_decided(step.request, decision=decided))
                self.wake(step.request.thread)
        if steps:
            rt.outbox_written()
        return len(steps)
