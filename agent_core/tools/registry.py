"""The registry: every tool the model may call, by name, and where each came from.

Fixed tools (Python functions, commands) are registered once. Sources (MCP servers) own
a namespace (``ops__*``) and list their tools when they connect, so the set can change
while signoff runs; ``get`` still answers for a source's name while its listing is
unknown, so resume can ask that tool whether it is available instead of forgetting it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from approvals import Policy, PolicyError

from ..model import ToolSpec
from .base import Tool, ToolSource

__all__ = ["DuplicateToolError", "ToolRegistry"]


class DuplicateToolError(ValueError):
    """Two definitions of one tool name; the message names both origins."""


class ToolRegistry:
    def __init__(self, tools: Iterable[Tool] = (), *, origin: str = "") -> None:
        self._tools: dict[str, Tool] = {}
        self._origins: dict[str, str] = {}
        self._sources: list[ToolSource] = []
        self._closed = False
        for t in tools:
            self.register(t, origin=origin)

    def register(self, t: Tool, *, origin: str = "") -> Tool:
        where = origin or "a Python module"
        if t.name in self._tools:
            first = self._origins[t.name]
            raise DuplicateToolError(
                f"tool {t.name!r} is defined twice: by {first} and by {where}; rename one"
            )
        for source in self._sources:
            if source.owns(t.name):
                raise DuplicateToolError(
                    f"tool {t.name!r} ({where}) is in the namespace of {source.label}; rename it"
                )
        self._tools[t.name] = t
        self._origins[t.name] = where
        return t

    def add_source(self, source: ToolSource) -> None:
        clash = sorted(n for n in self._tools if source.owns(n))
        if clash:
            raise DuplicateToolError(
                f"tool {clash[0]!r} ({self._origins[clash[0]]}) is in the namespace of "
                f"{source.label}; rename it"
            )
        self._sources.append(source)

    def get(self, name: str) -> Tool | None:
        found = self._tools.get(name)
        if found is not None:
            return found
        for source in self._sources:
            if source.owns(name):
                return source.get(name)
        return None

    def _all(self) -> dict[str, Tool]:
        tools = dict(self._tools)
        for source in self._sources:
            for t in source.tools():
                tools.setdefault(t.name, t)
        return tools

    def names(self) -> list[str]:
        return sorted(self._all())

    def tools(self) -> list[Tool]:
        everything = self._all()
        return [everything[n] for n in sorted(everything)]

    def specs(self) -> list[ToolSpec]:
        return [t.spec for t in self.tools()]

    def sources(self) -> tuple[ToolSource, ...]:
        """The sources of tools (MCP servers), in the order they were added."""
        return tuple(self._sources)

    def origin(self, name: str) -> str:
        if name in self._origins:
            return self._origins[name]
        return next((s.label for s in self._sources if s.owns(name)), "")

    @property
    def configured(self) -> bool:
        """Is any tool (or any source of tools) configured at all?"""
        return bool(self._tools or self._sources)

    def check_policy(self, policy: Policy) -> None:
        """A policy naming a tool nobody defines is an error (a typo would open a gate), and
        so is one naming a tool that never waits for an approval (its rule would not hold).

        A name in the namespace of a source that has not listed its tools yet (a server
        down at start-up) cannot be checked now, so it is accepted, and the source warns
        when it lists its tools without it.
        """
        unlisted: set[str] = set()
        for source in self._sources:
            if not source.listing_known():
                names = frozenset(n for n in policy.tools if source.owns(n))
                source.expect(names)  # checked when it lists its tools
                unlisted |= names
        policy.check_tools(set(self.names()) | unlisted)
        # A rule for a tool that never asks is a wish for approval the config overrules:
        # quorum = 2 for a no_approval tool let it run at once, with no word said.
        for name in sorted(policy.tools):
            found = self.get(name)
            why = found.exemption if found is not None else ""
            if why:
                raise PolicyError(
                    f"{policy.source}: tools.{name}: {name} never waits for an approval "
                    f"({why}), so this rule would govern nothing: remove the rule, or the "
                    "exemption"
                )

    async def start(self) -> None:
        """Start every source (MCP servers connect); one that fails keeps retrying."""
        await asyncio.gather(*(s.start() for s in self._sources))

    async def aclose(self) -> None:
        """Stop every source (MCP servers are shut down). Idempotent."""
        if self._closed:
            return
        self._closed = True
        await asyncio.gather(*(s.aclose() for s in self._sources), return_exceptions=True)
