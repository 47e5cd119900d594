"""What the model is told about the tools is built once per tool definition, not on every
model call: rebuilding every function tool's JSON schema cost ~5% of a mention's CPU."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from agent_core.tools import ToolRegistry, tool


@tool
def restart(service: str, force: bool = False) -> str:
    """Restart a service."""
    return f"restarted {service} force={force}"


def test_function_tool_specs_are_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = ToolRegistry([restart])
    first = registry.specs()
    built: list[Any] = []
    original = BaseModel.model_json_schema.__func__  # type: ignore[attr-defined]

    def counting(cls: type[BaseModel], *args: Any, **kwargs: Any) -> dict[str, Any]:
        built.append(cls)
        return original(cls, *args, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(BaseModel, "model_json_schema", classmethod(counting))
    for _ in range(50):
        assert registry.specs() == first
    assert built == []
    (spec,) = first
    assert spec.name == "restart"
    assert set(spec.input_schema["properties"]) == {"service", "force"}
    assert "title" not in spec.input_schema
