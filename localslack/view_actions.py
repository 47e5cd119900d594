"""Buttons in views: a click in a Home tab (or an open modal) becomes a ``block_actions``
payload with ``container: {"type": "view", "view_id": …}`` and the whole ``view`` (its
``state.values`` included), and no ``channel``, ``message`` or ``response_url``, as Slack
sends it. Like any interaction it is delivered once and never retried."""

from __future__ import annotations

from localslack.errors import ControlError
from localslack.interactions import Interaction, find_button
from localslack.records import JSON, ViewRecord
from localslack.runtime import Runtime

__all__ = ["click_view_button"]


def _find_view(rt: Runtime, *, user: str, view_id: str | None) -> ViewRecord:
    home = rt.workspace.home_views.get(user)
    if view_id is None or (home is not None and home.id == view_id):
        if home is None:
            raise ControlError("view_not_found", f"{user} has no Home tab published", status=404)
        return home
    record = rt.workspace.views.get(view_id)
    if record is None or record.user != user or not record.is_open:
        raise ControlError("view_not_found", f"{view_id} is not open for {user}", status=404)
    return record


async def click_view_button(
    rt: Runtime,
    *,
    user: str,
    view_id: str | None = None,
    action_id: str | None = None,
    value: str | None = None,
    block_id: str | None = None,
) -> Interaction:
    """`view_id` None means the person's Home tab."""
    payload = rt.interactions.base_payload("block_actions", user)
    record = _find_view(rt, user=user, view_id=view_id)
    found_block, button = find_button(
        record.definition.get("blocks") or [], action_id=action_id, value=value, block_id=block_id
    )
    action: JSON = {
        "action_id": button.get("action_id"),
        "block_id": found_block,
        "text": button.get("text"),
        "type": "button",
        "action_ts": rt.workspace.ts.next(),
    }
    for key in ("value", "style"):
        if key in button:
            action[key] = button[key]
    trigger_id = rt.views.new_trigger(user)
    payload.update(
        container={"type": "view", "view_id": record.id},
        trigger_id=trigger_id,
        view=record.to_api(),
        actions=[action],
    )
    delivery = await rt.hub.deliver(
        type="interactive", payload=payload, accepts_response_payload=True
    )
    return Interaction(delivery.envelope_id, trigger_id, None, payload)
