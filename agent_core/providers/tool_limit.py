"""How many tools a provider takes in one request, and the refusal of a request over it.

OpenAI's Chat Completions refuses a ``tools`` array of more than 128 entries with a 400
(``array_above_max_length``: "Invalid 'tools': array too long. Expected an array with
maximum length 128, …"; its API reference: "A max of 128 functions are supported").
Every tool goes with every request, so once the MCP servers and commands offer more, each
model call fails, and the thread was told only that OpenAI refused the request. Such a
request is not sent: the turn fails at once with what the limit is, how many tools are
offered and how to narrow them.

Anthropic's Messages API documents no cap on the number of tools (only one on ``strict``
tools, which signoff does not send), nor do the OpenAI-compatible servers (vLLM,
llama.cpp, Ollama): for them nothing is checked, and a server that does refuse says so in
its own 400. Why not send the first 128 instead: docs/tools.md#how-many-tools.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ProviderRequestError

__all__ = ["NARROW_TOOLS", "TooManyToolsError", "ToolLimit"]

# How an operator offers fewer tools; said wherever the limit is.
NARROW_TOOLS = "narrow them with include or exclude in [mcp.servers.NAME] of SIGNOFF_CONFIG"


@dataclass(frozen=True)
class ToolLimit:
    """The most tools ``provider`` (its name for people) takes in one request."""

    provider: str
    limit: int

    def over(self, offered: int) -> bool:
        return offered > self.limit


class TooManyToolsError(ProviderRequestError):
    """A request would carry more tools than the provider takes: it was not sent."""

    def __init__(self, limit: ToolLimit, offered: int) -> None:
        super().__init__(
            f"{limit.provider} takes at most {limit.limit} tools in a request, and {offered} "
            f"are offered, so nothing was sent: an operator can {NARROW_TOOLS}, and "
            "`signoff doctor` counts them",
            provider=limit.provider,
            attempts=0,
        )
        self.limit = limit.limit
        self.offered = offered
