"""``@tool``: a typed Python function becomes a validated, gated tool.

The JSON schema comes from the signature (pydantic) and the description from the
docstring. A tool that ``requires_human_approval`` (a bool, or a predicate over the
validated arguments) is never called by the loop, only by resume, from a capsule.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, get_args, get_type_hints, overload

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from .base import Tool, ToolContext, schema_version

__all__ = ["ApprovalRule", "FunctionTool", "tool"]

ApprovalRule = bool | Callable[[dict[str, Any]], bool]


class FunctionTool(Tool):
    """A tool that runs a Python function in signoff's process."""

    def __init__(
        self,
        *,
        name: str,
        description: str,
        fn: Callable[..., Any],
        params: type[BaseModel],
        context_param: str | None,
        requires_human_approval: ApprovalRule,
        parallel_safe: bool,
        version: str | None = None,
        annotations: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            name=name,
            description=description,
            parallel_safe=parallel_safe,
            annotations=annotations,
        )
        self.fn = fn
        self.params = params
        self.context_param = context_param
        self.requires_human_approval = requires_human_approval
        # Built once: the model is told the tools on every call, and params never change.
        self._schema = _model_schema(params)
        # A request that waited for days must not run against a changed signature.
        self._version = version or schema_version(params.model_json_schema())

    @property
    def version(self) -> str:
        return self._version

    @property
    def schema(self) -> dict[str, Any]:
        return self._schema

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        try:
            model = self.params.model_validate(arguments)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
                for e in exc.errors()[:5]
            )
            raise ValueError(f"invalid arguments for {self.name}: {problems}") from None
        return model.model_dump(mode="json")

    def gated(self, arguments: dict[str, Any]) -> bool:
        rule = self.requires_human_approval
        return bool(rule(arguments)) if callable(rule) else bool(rule)

    @property
    def exemption(self) -> str:
        rule = self.requires_human_approval
        return "" if callable(rule) or rule else "its @tool has requires_human_approval=False"

    async def call(self, arguments: dict[str, Any], context: ToolContext) -> str:
        kwargs = dict(self.params.model_validate(arguments))
        if self.context_param:
            kwargs[self.context_param] = context
        if inspect.iscoroutinefunction(self.fn):
            result = await self.fn(**kwargs)
        else:
            # A plain function may block (locks, fsync, a subprocess): off the event loop,
            # so every other thread's work goes on meanwhile.
            result = await asyncio.to_thread(self.fn, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        if isinstance(result, str):
            return result
        return json.dumps(result, sort_keys=True, default=str)


_ARG_LINE = re.compile(r"^\s*(\w+)\s*(?:\([^)]*\))?\s*:\s*(.+)$")


def _docstring(fn: Callable[..., Any]) -> tuple[str, dict[str, str]]:
    """The summary and the ``Args:`` section of a Google-style docstring."""
    doc = inspect.getdoc(fn) or ""
    summary_lines: list[str] = []
    params: dict[str, str] = {}
    in_args = False
    for line in doc.splitlines():
        if line.strip().lower() in ("args:", "arguments:", "parameters:"):
            in_args = True
            continue
        if in_args:
            match = _ARG_LINE.match(line)
            if match:
                params[match.group(1)] = match.group(2).strip()
            elif line.strip() and not line.startswith((" ", "\t")):
                in_args = False
        elif not in_args:
            summary_lines.append(line)
    return "\n".join(summary_lines).strip(), params


def _build(
    fn: Callable[..., Any],
    *,
    name: str | None,
    requires_human_approval: ApprovalRule,
    parallel_safe: bool,
    version: str | None,
    annotations: Mapping[str, Any] | None,
) -> FunctionTool:
    # Tools defined inside functions (tests, plugins) name ToolContext from a local import.
    closure = inspect.getclosurevars(fn)
    local = {"ToolContext": ToolContext, **closure.nonlocals, **closure.globals}
    hints = get_type_hints(fn, localns=local, include_extras=True)
    description, docs = _docstring(fn)
    fields: dict[str, Any] = {}
    context_param: str | None = None
    for pname, param in inspect.signature(fn).parameters.items():
        annotation = hints.get(pname, Any)
        if annotation is ToolContext or ToolContext in get_args(annotation):
            context_param = pname
            continue
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[pname] = (annotation, Field(default, description=docs.get(pname)))
    tool_name = name or fn.__name__
    params = create_model(f"{tool_name}_args", __config__=ConfigDict(extra="forbid"), **fields)
    return FunctionTool(
        name=tool_name,
        description=description or tool_name,
        fn=fn,
        params=params,
        context_param=context_param,
        requires_human_approval=requires_human_approval,
        parallel_safe=parallel_safe,
        version=version,
        annotations=annotations,
    )


def _model_schema(params: type[BaseModel]) -> dict[str, Any]:
    """The arguments' JSON schema as the model is told it: without pydantic's titles."""
    schema = params.model_json_schema()
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
    return schema


@overload
def tool(fn: Callable[..., Any], /) -> FunctionTool: ...


@overload
def tool(
    *,
    name: str | None = None,
    requires_human_approval: ApprovalRule = False,
    parallel_safe: bool = False,
    version: str | None = None,
    annotations: Mapping[str, Any] | None = None,
) -> Callable[[Callable[..., Any]], FunctionTool]: ...


def tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    requires_human_approval: ApprovalRule = False,
    parallel_safe: bool = False,
    version: str | None = None,
    annotations: Mapping[str, Any] | None = None,
) -> FunctionTool | Callable[[Callable[..., Any]], FunctionTool]:
    """Decorate a function as a tool; usable bare (``@tool``) or with options."""

    def wrap(f: Callable[..., Any]) -> FunctionTool:
        return _build(
            f,
            name=name,
            requires_human_approval=requires_human_approval,
            parallel_safe=parallel_safe,
            version=version,
            annotations=annotations,
        )

    return wrap(fn) if fn is not None else wrap
