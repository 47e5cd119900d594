"""The offline model's phrasebook and the @tool registry."""

from __future__ import annotations

import json
from typing import Annotated, Any

import pytest
from pydantic import Field

from agent_core.call_grammar import help_text
from agent_core.demo_fleet import demo_registry
from agent_core.messages import EventMessage, Message, ToolResultMessage, UserMessage
from agent_core.offline import OfflineModel
from agent_core.tools import ToolContext, ToolRegistry, tool


async def ask(text: str) -> Any:
    return await OfflineModel().complete(
        system="",
        messages=[UserMessage(text=text, user="U0A", ts="1.1")],
        tools=demo_registry().specs(),
    )


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        ("<@U0BOT> status of api", "service_status", {"service": "api"}),
        ("how is the worker doing?", "service_status", {"service": "worker"}),
        ("<@U0BOT> restart the api service", "restart_service", {"service": "api"}),
        ("Restart db please", "restart_service", {"service": "db"}),
        ("deploy web 2.1.0", "deploy_service", {"service": "web", "version": "2.1.0"}),
        (
            "deploy the api service version 1.5.0.",
            "deploy_service",
            {"service": "api", "version": "1.5.0"},
        ),
        ("scale worker to 6", "scale_service", {"service": "worker", "replicas": 6}),
    ],
)
async def test_offline_model_understands_its_phrasebook(
    text: str, name: str, args: dict[str, Any]
) -> None:
    reply = await ask(text)
    assert reply.stop_reason == "tool_use"
    (call,) = reply.tool_calls
    assert call.name == name
    assert json.loads(str(call.arguments)) == args


async def test_offline_model_explains_what_it_can_do() -> None:
    reply = await ask("what's the weather?")
    assert reply.text == help_text(demo_registry().specs())
    assert "• `restart_service`: Restart every replica of a service." in reply.text
    assert not reply.tool_calls
    assert reply.usage.input_tokens > 0


async def test_offline_model_summarises_results_and_outcomes() -> None:
    messages: list[Message] = [
        UserMessage(text="restart api", user="U0A", ts="1.1"),
        ToolResultMessage(
            call_id="c", name="restart_service", content='{"restarts": 1}', status="ok"
        ),
        ToolResultMessage(
            call_id="d", name="deploy_service", content="denied by <@U0B>", status="denied"
        ),
        EventMessage(text="Outcome of the earlier request: expired"),
    ]
    reply = await OfflineModel().complete(system="", messages=messages, tools=[])
    assert "✅ `restart_service` finished: restarts=1" in reply.text
    assert "🚫 I did not run `deploy_service`: denied by <@U0B>" in reply.text
    assert "Outcome of the earlier request: expired" in reply.text


def test_tool_schema_comes_from_signature_and_docstring() -> None:
    @tool(parallel_safe=True)
    def lookup(
        name: str, limit: Annotated[int, Field(ge=1, le=10)] = 3, ctx: ToolContext | None = None
    ) -> str:
        """Find things by name.

        Args:
            name: what to look for
            limit: how many results
        """
        return name

    assert lookup.description == "Find things by name."
    assert lookup.parallel_safe is True
    assert lookup.requires_human_approval is False
    schema = lookup.schema
    assert "ctx" not in schema["properties"]
    assert schema["required"] == ["name"]
    assert schema["properties"]["name"] == {"description": "what to look for", "type": "string"}
    assert schema["properties"]["limit"]["maximum"] == 10
    assert schema["additionalProperties"] is False
    assert lookup.validate({"name": "x"}) == {"name": "x", "limit": 3}
    assert lookup.context_param == "ctx"  # never offered to the model


def test_validation_errors_are_readable_and_extra_arguments_rejected() -> None:
    restart = demo_registry().get("restart_service")
    assert restart is not None
    with pytest.raises(ValueError, match="service: Field required"):
        restart.validate({})
    with pytest.raises(ValueError, match="force: Extra inputs are not permitted"):
        restart.validate({"service": "api", "force": True})


def test_tool_versions_change_with_the_signature_and_defaults_are_serial() -> None:
    @tool
    def a(x: int) -> str:
        """A."""
        return ""

    @tool(name="a")
    def a2(x: int, y: int = 0) -> str:
        """A."""
        return ""

    assert a.version != a2.version
    assert a.parallel_safe is False
    with pytest.raises(ValueError, match="defined twice"):
        ToolRegistry([a, a2])


def test_demo_registry_gates_every_write() -> None:
    registry = demo_registry()
    gated = {n for n in registry.names() if registry.get(n).gated({"service": "api"})}  # type: ignore[union-attr]
    assert gated == {"restart_service", "deploy_service", "scale_service"}
