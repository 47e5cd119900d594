"""What every tool is, whatever runs it: a Python function, an MCP server or a command.

The executor and resume use exactly this interface: ``name``, ``description``,
``version``, ``parallel_safe``, ``annotations``, ``secrets``, ``spec``, ``schema``,
``validate``, ``gated``, ``exemption``, ``call`` and ``unavailable``. A tool's ``version`` is a hash of its input
schema; a capsule pins it, and an approved call whose tool changed since does not run.

Errors a tool raises from ``call``::

    Exception                 the call failed; the model is told (status "error")
     ├── ToolError            it ran and reported a failure (a non-zero exit, an MCP error)
     │    └── ToolNotRun      signoff sent nothing (a server down, a tool changed since its
     │                        approval, a program that could not start): "not run"
     └── ToolOutcomeUnknown   it may or may not have taken effect (status "uncertain");
                              never re-run on its own
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sessions import ThreadKey

from ..model import ToolSpec

__all__ = [
    "UNLISTED",
    "Tool",
    "ToolContext",
    "ToolError",
    "ToolNotRun",
    "ToolOutcomeUnknown",
    "ToolSource",
    "schema_version",
]


# The version of a tool whose server's listing is unknown (an MCP server that is down):
# not a change of the tool, only its absence for now.
UNLISTED = "unlisted"


class ToolError(Exception):
    """The tool ran and reported a failure; the message is what the model reads."""


class ToolNotRun(ToolError):
    """The call was refused before any of it ran, so it had no effect: told as "not run",
    which the card and the Home tab say too (never "ran: failed"). Only on signoff's own
    word: a server's error answer may come from a tool that did its work first (a
    ``ToolError``), an answer lost or unreadable is ``ToolOutcomeUnknown``."""


class ToolOutcomeUnknown(Exception):
    """The call may or may not have taken effect (a server died or the connection dropped
    mid-call, a command was killed at its timeout). Its result is *uncertain*: a person
    checks the system; signoff never runs it again on its own."""


@dataclass(frozen=True)
class ToolContext:
    """What a tool may know about the call; declare a parameter of this type to get it."""

    home: Path
    session_id: str
    # Where the session's workspace/ is; sessions make it only when something writes
    # there, so tools ask for ``workspace``, which makes it.
    workspace_path: Path
    thread: ThreadKey
    requester: str
    # Set for approved calls: the idempotency key a tool can pass to the system it changes.
    approval_id: str = ""
    call_id: str = ""
    # The tool's version the call was checked against (an approved call: the one its
    # capsule pins). A tool that re-reads its schema before sending (MCP) refuses on a
    # change: a call is never sent against a schema nobody checked it with.
    tool_version: str = ""

    @property
    def workspace(self) -> Path:
        """The session's workspace/, made on first use: a tool may write there at once."""
        self.workspace_path.mkdir(parents=True, exist_ok=True)
        return self.workspace_path


def schema_version(schema: Mapping[str, Any]) -> str:
    """The version of a tool: a short hash of its input schema, key order ignored."""
    # The same text as before tools had kinds, so capsules already on disk still match.
    text = json.dumps(schema, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class Tool(ABC):
    """One tool the model may call. Subclasses say how arguments are checked and run."""

    def __init__(
        self,
        *,
        name: str,
        description: str,
        parallel_safe: bool = False,
        annotations: Mapping[str, Any] | None = None,
        timeout_seconds: float | None = None,
    ) -> None:
        self._name = name
        self._description = description
        self.parallel_safe = parallel_safe
        self._annotations = dict(annotations or {})
        # The tool's own deadline; the executor waits a little longer so this one fires first.
        self.timeout_seconds = timeout_seconds
        self._spec: tuple[str, dict[str, Any], ToolSpec] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str:
        return self._description

    @property
    def annotations(self) -> Mapping[str, Any]:
        """Hints shown to people (MCP's readOnlyHint, destructiveHint, …); never the gate."""
        return self._annotations

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values the tool is given that its results must never show (the ``env`` values
        named as secrets, passwords in URLs, an MCP server's ``headers``): the executor
        masks them."""
        return ()

    @property
    @abstractmethod
    def schema(self) -> dict[str, Any]:
        """The JSON schema of the arguments, as the model is told."""

    @property
    def version(self) -> str:
        return schema_version(self.schema)

    @property
    def spec(self) -> ToolSpec:
        """What the model is told; rebuilt only when the description or schema object changes."""
        description, schema = self.description, self.schema
        cached = self._spec
        if cached is not None and cached[0] == description and cached[1] is schema:
            return cached[2]
        spec = ToolSpec(name=self.name, description=description, input_schema=schema)
        self._spec = (description, schema, spec)
        return spec

    @property
    def summary(self) -> str:
        """The first line of the description, for lists."""
        first = self.description.strip().splitlines()
        return first[0].strip() if first else self.name

    @abstractmethod
    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Validated, normalized arguments; raises ValueError with a readable message."""

    @abstractmethod
    def gated(self, arguments: dict[str, Any]) -> bool:
        """Must a person approve this call (with these validated arguments)?"""

    @property
    def exemption(self) -> str:
        """Why no call of this tool ever waits for a person, or "" when some may: a policy
        rule for it would govern nothing."""
        return ""

    @abstractmethod
    async def call(self, arguments: dict[str, Any], context: ToolContext) -> str:
        """Run the call; the text is what the model reads."""

    async def unavailable(self) -> str | None:
        """None when the tool can run now, otherwise a short reason for people.

        Resume asks before it claims an approved call, so a tool that cannot run (an MCP
        server that is down) never spends an approval. Tools that run in-process are
        always available.
        """
        return None


class ToolSource(Protocol):
    """Tools that come and go with something outside signoff (an MCP server)."""

    @property
    def label(self) -> str:
        """Where the tools come from, for messages: e.g. "MCP server ops"."""

    def owns(self, name: str) -> bool:
        """Whether ``name`` is in this source's namespace (listed now or not)."""

    def tools(self) -> list[Tool]:
        """The tools it offers now (the last listing it got)."""

    def get(self, name: str) -> Tool | None:
        """A tool of its namespace: listed, or a stand-in while the listing is unknown."""

    def listing_known(self) -> bool:
        """Whether it has listed its tools at least once."""

    def expect(self, names: frozenset[str]) -> None:
        """Names of its namespace a policy has rules for, which could not be checked before
        it listed its tools: it warns of each it does not offer once it does (a typo)."""

    def problem(self) -> str | None:
        """Why it offers no tools now (the server is down), or None while it is up."""

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...
