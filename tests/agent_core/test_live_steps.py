"""A turn's calls as the steps of its reply: what became of each, in words that stay true
(``agent_core.live_steps``)."""

from __future__ import annotations

from agent_core.live import ToolStep
from agent_core.live_steps import outcome_steps
from agent_core.messages import AssistantMessage, Message, ToolCall, ToolResultMessage, ToolStatus

ASKED = AssistantMessage(
    text="Checking.",
    tool_calls=tuple(ToolCall(id=f"c{n}", name="check", arguments={}) for n in range(4)),
)


def result(
    call_id: str, content: str, status: ToolStatus = "error", digest: str = ""
) -> ToolResultMessage:
    return ToolResultMessage(
        call_id=call_id, name="check", content=content, status=status, args_sha256=digest
    )


def test_a_call_that_never_ran_says_so_and_one_that_ran_says_how_it_ended() -> None:
    transcript: list[Message] = [
        ASKED,
        result("c0", "all good", status="ok", digest="ab"),
        result("c1", "not run: stopped from Slack by <@U0BOB>"),
        # A tool's own words that start the same way: it ran (its arguments' hash says so).
        result("c2", "not run: the target was busy", digest="cd"),
    ]
    steps = outcome_steps(transcript, ASKED, [], stopped=True)
    assert steps == [
        ToolStep("c0", "check", "done"),
        ToolStep("c1", "check", "failed", "not run: stopped"),
        ToolStep("c2", "check", "failed", "error"),
        ToolStep("c3", "check", "failed", "not run: stopped"),  # no result: never ran
    ]
    assert outcome_steps(transcript, ASKED, [], stopped=False)[1].detail == "not run"
