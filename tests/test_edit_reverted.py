"""An edit that puts the arguments back as the model asked: the call ran as asked, and
the model is told so, not that it ran "with arguments changed … : ." (nothing listed)."""

from __future__ import annotations

import json
from typing import Any

from engine_support import ask_and_edit, transcript

from approvals import EditRecorded, Policy, PolicyRule, args_sha256
from sessions import Home

POLICY = Policy(tools={"scale_service": PolicyRule(approver_users=("U0BOB", "U0CAROL"), quorum=2)})


async def test_an_edit_reverted_by_the_next_editor_is_told_as_the_call_asked(
    make_engine: Any, home: Home
) -> None:
    engine = await make_engine(policy=POLICY)
    approval, first = await ask_and_edit(engine)  # Carol: replicas 12 → 8
    asked = {"service": "api", "replicas": 12}
    # Bob disagrees with Carol's edit and puts it back: his edit approves the call as asked.
    reverted = await engine.edit(
        approval, user="U0BOB", arguments=dict(asked), base_sha256=first.edit.args_sha256
    )
    assert isinstance(reverted, EditRecorded)
    assert engine.current_hash(approval) == args_sha256("scale_service", asked)
    await engine.decide(
        approval, user="U0CAROL", approve=True, seen_sha256=engine.current_hash(approval)
    )
    await engine.idle()
    told = json.dumps([m.model_dump() for m in transcript(home)], ensure_ascii=False)
    assert "finished: replicas=12" in told
    assert "not as you asked" not in told and ": ." not in told
    assert "put back as you asked them: it ran as you asked" in told
