"""Which of an MCP server's listed tools signoff offers to the model.

A tool is offered when its name matches ``include`` and no ``exclude`` pattern, is listed
once, makes a name models accept with the server's prefix, and has an input schema that can
go with every model request: JSON, at most ``SCHEMA_LIMIT``, and valid JSON schema (the
model APIs refuse a whole request for one invalid tool). Each tool skipped is logged once
for as long as it is listed and skipped (again if it comes back after a listing without it).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from fnmatch import fnmatchcase

from mcp.types import Tool as McpToolInfo

from .json_schema import schema_problem
from .mcp_spec import McpServerSpec
from .specs import TOOL_NAME

__all__ = ["SCHEMA_LIMIT", "ListingFilter"]

log = logging.getLogger("signoff.mcp")
# A tool's input schema goes with every model request of every thread: one of megabytes
# would make each request fail (or cost a fortune), so such a tool is not offered.
SCHEMA_LIMIT = 64 * 1024


class ListingFilter:
    def __init__(self, *, label: str, prefix: str, spec: McpServerSpec) -> None:
        self.label = label
        self.prefix = prefix
        self.spec = spec
        # Names skipped in the last listing: only those, or a server whose names change
        # (a version, a date in them) would grow it for as long as signoff runs.
        self._skipped: set[str] = set()
        # Why each schema of the last listing cannot be offered ("" when it can), by its
        # JSON text: checking a schema costs, and the listing is re-read every 15 s.
        self._verdicts: dict[str, str] = {}

    def offered(self, tools: list[McpToolInfo]) -> dict[str, McpToolInfo]:
        """The tools of ``tools`` to offer, by the server's own names."""
        listing: dict[str, McpToolInfo] = {}
        verdicts: dict[str, str] = {}
        skipped: set[str] = set()
        # A name listed twice (two schemas, two descriptions): which the server runs is
        # its guess, and a call would be checked, and shown, against one of them.
        twice = {n for n, count in Counter(i.name for i in tools).items() if count > 1}
        for name in sorted(twice):
            self._skip(name, "it is listed twice", skipped)
        for info in tools:
            if info.name in twice:
                continue
            if not any(fnmatchcase(info.name, p) for p in self.spec.include):
                continue
            if any(fnmatchcase(info.name, p) for p in self.spec.exclude):
                continue
            if not TOOL_NAME.fullmatch(self.prefix + info.name):
                self._skip(
                    info.name,
                    f"{self.prefix}{info.name} is not a valid tool name for models "
                    "(letters, digits, _ and -, at most 64)",
                    skipped,
                )
                continue
            unfit = self._unfit(info.input_schema, verdicts)
            if unfit:
                self._skip(info.name, unfit, skipped)
                continue
            listing[info.name] = info
        self._verdicts = verdicts
        self._skipped = skipped
        return listing

    def _skip(self, name: str, why: str, skipped: set[str]) -> None:
        skipped.add(name)
        if name not in self._skipped:
            log.warning("%s: tool %r skipped: %s", self.label, name, why)

    def _unfit(self, schema: dict[str, object], verdicts: dict[str, str]) -> str:
        """Why a tool's input schema cannot be offered; "" when it can."""
        try:
            text = json.dumps(schema, separators=(",", ":"), sort_keys=True)
        except (RecursionError, TypeError, ValueError):
            return "its input schema cannot be written out as JSON (nested too deep?)"
        if len(text) > SCHEMA_LIMIT:
            return (
                f"its input schema is {len(text) // 1024} KiB, over {SCHEMA_LIMIT // 1024} "
                "KiB (it would go with every model request)"
            )
        verdict = self._verdicts.get(text)
        if verdict is None:
            verdict = schema_problem(schema)
        verdicts[text] = verdict
        return verdict
