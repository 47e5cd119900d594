"""The Messages API's prompt cache, as far as a request's usage goes, for ``FakeAnthropic``.

``cache_points(body)`` says where a request marks ``cache_control``, in the order the API
renders it (tools, then system, then messages): ``tools.2``, ``system.0``,
``messages.3.content.1``. ``check_cache_points`` is the API's 400 for more than 4.

``PromptCache`` answers a request's usage the way the API bills it: each block costs
about a token per 4 characters of its JSON (``cache_control`` left out: moving a mark
changes no prefix); a mark whose prefix (the model, and every block up to and including
the marked one) was written before, or one of the 20 blocks before it, is a cache read
of that prefix; the prefix of the last mark is written, less what was read, when it is
at least ``min_tokens`` long; ``input_tokens`` is what is left. Entries never expire.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["LOOKBACK", "MAX_POINTS", "PromptCache", "cache_points", "check_cache_points"]

MAX_POINTS = 4
LOOKBACK = 20


def _blocks(body: dict[str, Any]) -> list[tuple[str, Any]]:
    """(where, block) for every cacheable block, in render order."""
    out: list[tuple[str, Any]] = [(f"tools.{i}", t) for i, t in enumerate(body.get("tools") or [])]
    system = body.get("system")
    if isinstance(system, str) and system:
        out.append(("system.0", {"type": "text", "text": system}))
    elif isinstance(system, list):
        out.extend((f"system.{i}", b) for i, b in enumerate(system))
    for i, message in enumerate(body.get("messages") or []):
        content = message.get("content")
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        for j, block in enumerate(content or []):
            out.append((f"messages.{i}.content.{j}", {"role": message.get("role"), **block}))
    return out


def cache_points(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    return [where for where, block in _blocks(body) if "cache_control" in block]


def check_cache_points(body: Any) -> str | None:
    marks = [block["cache_control"] for _, block in _blocks(body) if "cache_control" in block]
    if len(marks) > MAX_POINTS:
        return f"A maximum of {MAX_POINTS} blocks with cache_control may be provided. Found {len(marks)}."
    for mark in marks:
        if not isinstance(mark, dict) or mark.get("type") != "ephemeral":
            return "cache_control.type: Input should be 'ephemeral'"
        if set(mark) - {"type", "ttl"} or mark.get("ttl", "5m") not in ("5m", "1h"):
            return "cache_control: Extra inputs are not permitted"
    return None


def _plain(block: Any) -> str:
    return json.dumps(
        {k: v for k, v in block.items() if k != "cache_control"}, sort_keys=True, default=str
    )


class PromptCache:
    def __init__(self, *, min_tokens: int = 0) -> None:
        self.min_tokens = min_tokens
        self._entries: dict[str, int] = {}
        """Prefix hash -> its length in tokens."""

    def usage(self, body: dict[str, Any]) -> dict[str, int]:
        blocks = _blocks(body)
        digest = hashlib.sha256(str(body.get("model")).encode())
        hashes: list[str] = []
        lengths: list[int] = []
        total = 0
        for _, block in blocks:
            plain = _plain(block)
            digest.update(plain.encode())
            hashes.append(digest.copy().hexdigest())
            total += -(-len(plain) // 4)
            lengths.append(total)
        marks = [i for i, (_, block) in enumerate(blocks) if "cache_control" in block]
        read = 0
        for mark in marks:
            for i in range(mark, max(-1, mark - LOOKBACK), -1):
                if hashes[i] in self._entries:
                    read = max(read, self._entries[hashes[i]])
                    break
        write = 0
        for mark in marks:
            if lengths[mark] >= self.min_tokens:
                self._entries[hashes[mark]] = lengths[mark]
                write = max(write, lengths[mark] - read)
        return {
            "input_tokens": total - read - write,
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
        }
