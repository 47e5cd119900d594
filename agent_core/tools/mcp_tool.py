"""One tool of an MCP server, as signoff's ``Tool``: always read from the current listing.

Description, schema, version and annotations come from what the server advertises now,
so a holder of this object never checks an approval against a stale schema. The result
the model reads is the server's text (capped; the whole of it kept in the workspace).
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp.types import (
    AudioContent,
    CallToolResult,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextContent,
    TextResourceContents,
)
from mcp.types import Tool as McpToolInfo

from .base import UNLISTED, Tool, ToolContext, ToolError, schema_version
from .json_schema import SchemaChecker
from .kept_files import new_kept_files
from .output import OUTPUT_LIMIT, clip_text, output_path

if TYPE_CHECKING:
    from .mcp_server import McpServer

__all__ = [
    "DESCRIPTION_LIMIT",
    "UNLISTED",
    "McpTool",
    "described",
    "hints",
    "pinned",
    "result_text",
]

# What a model (and a card) is given of one tool's description: a server's every
# description goes with every model request of every thread (Claude Code cuts at 2,048).
DESCRIPTION_LIMIT = 2048


class McpTool(Tool):
    def __init__(self, server: McpServer, remote: str) -> None:
        super().__init__(
            name=server.prefix + remote,
            description="",
            timeout_seconds=server.spec.timeout_seconds,
        )
        self.server = server
        self.remote = remote
        self._checker: tuple[str, SchemaChecker] | None = None

    @property
    def description(self) -> str:
        info = self.server.info(self.remote)
        if info is None:
            return f"{self.remote} on {self.server.label} ({self.server.status()})"
        return described(info)

    @property
    def schema(self) -> dict[str, Any]:
        info = self.server.info(self.remote)
        # The listing's own dict (never changed in place): the spec is rebuilt only on relisting.
        return info.input_schema if info is not None else {"type": "object"}

    @property
    def version(self) -> str:
        # The schema the server advertises now, on the server the config names now: what
        # an approval is checked against.
        return self.server.version_of(self.server.info(self.remote))

    @property
    def annotations(self) -> Mapping[str, Any]:
        info = self.server.info(self.remote)
        return {} if info is None else hints(info)

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        info = self.server.info(self.remote)
        if info is None:
            raise ValueError(f"{self.name} is not available now: {self.server.status()}")
        version = schema_version(info.input_schema)
        if self._checker is None or self._checker[0] != version:
            self._checker = (version, SchemaChecker(self.name, info.input_schema))
        return self._checker[1].validate(arguments)

    def gated(self, arguments: dict[str, Any]) -> bool:
        return self.server.gated(self.remote)

    @property
    def exemption(self) -> str:
        return self.server.exemption(self.remote)

    @property
    def secrets(self) -> tuple[str, ...]:
        return self.server.spec.secrets

    async def unavailable(self) -> str | None:
        return await self.server.ensure()

    async def call(self, arguments: dict[str, Any], context: ToolContext) -> str:
        result = await self.server.call(
            self.remote,
            arguments,
            approval_id=context.approval_id,
            checked_version=context.tool_version,
        )
        text = result_text(result)
        kept = output_path(
            context.workspace_path, tool=self.name, call_id=context.call_id, stream="txt"
        )
        if len(text) > OUTPUT_LIMIT:
            try:
                _keep(kept, text)
            except OSError as exc:  # it ran all the same: its result is not an error
                cut = clip_text(text, secrets=self.secrets)
                text = f"{cut} (the whole result could not be kept: {exc.strerror or exc})"
            else:
                where = kept.relative_to(context.workspace_path.parent)
                text = clip_text(text, kept=where, secrets=self.secrets)
        if result.is_error:
            raise ToolError(text or f"{self.remote} reported an error")
        return text


def _keep(path: Path, text: str) -> None:
    """``text`` whole in a new file at ``path``, made as a command's kept output is: never
    written through a link a command left in the workspace (``kept_files``)."""
    with new_kept_files(path.parent, path.name) as (kept,):
        data = memoryview(text.encode("utf-8", "replace"))
        while data:
            written = kept.write(data)
            if not written:  # a full disk took none of it
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            data = data[written:]


def described(info: McpToolInfo) -> str:
    """What a tool says it does, as a model and an approval card are shown it."""
    text = (info.description or info.title or info.name).strip()
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


def hints(info: McpToolInfo) -> dict[str, Any]:
    """The tool's annotations, as a card shows them (never obeyed)."""
    if info.annotations is None:
        return {}
    return info.annotations.model_dump(by_alias=True, exclude_none=True)


# The hints an approval card shows (``bot/card_fields.py``): the others, and the title,
# it never shows.
_CARD_HINTS = ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")


def pinned(info: McpToolInfo) -> dict[str, Any]:
    """What an approval card says the tool does, which its approval pins: the first
    paragraph of its description (the card's summary) and its boolean hints. Not the rest:
    a server whose description carries a changing value further on (a load, a count) or
    retitles the tool would have every approval of it refused."""
    shown = hints(info)
    return {
        "description": described(info).strip().split("\n\n")[0],
        "hints": {k: shown[k] for k in _CARD_HINTS if isinstance(shown.get(k), bool)},
    }


def result_text(result: CallToolResult) -> str:
    """What the model reads: the text blocks, and a note for anything that is not text."""
    parts: list[str] = []
    for block in result.content:
        if isinstance(block, TextContent):
            parts.append(block.text)
        elif isinstance(block, ImageContent | AudioContent):
            parts.append(f"[{block.type}: {block.mime_type}, not shown]")
        elif isinstance(block, ResourceLink):
            parts.append(f"[resource: {block.uri}]")
        elif isinstance(block, EmbeddedResource):
            resource = block.resource
            if isinstance(resource, TextResourceContents):
                parts.append(resource.text)
            else:
                parts.append(f"[resource: {resource.uri}, binary, not shown]")
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, sort_keys=True, default=str))
    return "\n".join(parts)
