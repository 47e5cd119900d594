"""How many tools signoff offers, beside how many the model's provider takes in a request.

``signoff doctor`` prints it (a problem when over the limit) and start-up logs it once as
a warning when over: every model call would be refused (``agent_core.providers.tool_limit``
refuses it before it is sent). Start-up warns rather than refuses, because the count is not
settled then: see docs/tools.md#how-many-tools.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from agent_core.providers import NARROW_TOOLS, tool_limit
from agent_core.tools import ToolRegistry

__all__ = ["NO_TOOLS", "ToolCount", "count_tools", "describe_tools"]

# What start-up logs, and doctor says, when nothing gives signoff a tool.
NO_TOOLS = (
    "no tools are configured (SIGNOFF_CONFIG, SIGNOFF_TOOLS; SIGNOFF_DEMO=1 adds the demo "
    "fleet): signoff can talk but not act, and says so"
)


@dataclass(frozen=True)
class ToolCount:
    ok: bool  # False: over the provider's limit
    line: str


def describe_tools(registry: ToolRegistry) -> str:
    """E.g. "4 from the demo fleet, 2 from MCP server ops, 1 from SIGNOFF_CONFIG commands"."""
    counts = Counter(
        "SIGNOFF_CONFIG commands" if origin.startswith("[commands.") else origin
        for origin in map(registry.origin, registry.names())
    )
    parts = [f"{n} from {origin}" for origin, n in counts.items()]
    return ", ".join(parts) or "none"


def count_tools(registry: ToolRegistry, model: str) -> ToolCount:
    """The count of ``registry``'s tools for the model ``model`` (``SIGNOFF_MODEL``), by
    where they come from. None configured is no problem (a bot may be meant to talk only),
    but is said: an operator who forgot SIGNOFF_CONFIG learns it before people do."""
    if not registry.configured:
        return ToolCount(True, f"0 tools offered: {NO_TOOLS}")
    offered = len(registry.names())
    line = f"{offered} tool{'' if offered == 1 else 's'} offered"
    if offered:
        line += f" ({describe_tools(registry)})"
    unlisted = sum(1 for s in registry.sources() if not s.listing_known())
    if unlisted:  # down or still starting (said on their own lines): theirs come on top
        servers = "server that has" if unlisted == 1 else "servers that have"
        line += f", and those of {unlisted} MCP {servers} not listed any yet"
    limit = tool_limit(model)
    if limit is None:
        return ToolCount(True, line)
    if limit.over(offered):
        return ToolCount(
            False,
            f"{line}: over the {limit.limit} {limit.provider} takes in a request, so every "
            f"model call would fail; {NARROW_TOOLS}",
        )
    return ToolCount(True, f"{line}; {limit.provider} takes up to {limit.limit} in a request")
