"""Tools the model may call: the common interface, the registry, and ``@tool``.

Three kinds share ``Tool`` (``base``): Python functions (``functions``, ``@tool``),
commands run without a shell (``command``), and the tools of MCP servers
(``mcp_server``, ``mcp_tool``; imported only when a server is configured, since the SDK
is slow to import). ``specs`` holds their configuration; ``registry`` holds them all.
"""

from .base import (
    Tool,
    ToolContext,
    ToolError,
    ToolNotRun,
    ToolOutcomeUnknown,
    ToolSource,
    schema_version,
)
from .functions import ApprovalRule, FunctionTool, tool
from .registry import DuplicateToolError, ToolRegistry

__all__ = [
    "ApprovalRule",
    "DuplicateToolError",
    "FunctionTool",
    "Tool",
    "ToolContext",
    "ToolError",
    "ToolNotRun",
    "ToolOutcomeUnknown",
    "ToolRegistry",
    "ToolSource",
    "schema_version",
    "tool",
]
