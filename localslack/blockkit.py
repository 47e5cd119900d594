"""Block Kit validation with Slack's limits; returns Slack-style `[ERROR] ...` messages."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

__all__ = [
    "MAX_MESSAGE_BLOCKS",
    "MAX_MODAL_BLOCKS",
    "interactive_elements",
    "normalize_blocks",
    "validate_blocks",
    "validate_home",
    "validate_modal",
]

MAX_MESSAGE_BLOCKS = 50
MAX_MODAL_BLOCKS = 100

_BLOCK_TYPES = {
    "actions",
    "context",
    "context_actions",
    "divider",
    "file",
    "header",
    "image",
    "input",
    "markdown",
    "rich_text",
    "section",
    "table",
    "video",
}


class _Collector:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def add(self, message: str, pointer: str) -> None:
        self.errors.append(f"[ERROR] {message} [json-pointer:{pointer}]")

    def max_len(self, value: Any, limit: int, pointer: str) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.add(f"must be less than {limit + 1} characters", pointer)

    def text_object(self, obj: Any, pointer: str, *, limit: int, plain_only: bool = False) -> None:
        if not isinstance(obj, dict):
            self.add("must provide an object", pointer)
            return
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if obj.get("type") not in allowed:
            self.add(f"must be one of {', '.join(allowed)}", f"{pointer}/type")
        text = obj.get("text")
        if not isinstance(text, str) or not text:
            self.add("must be more than 0 characters", f"{pointer}/text")
        else:
            self.max_len(text, limit, f"{pointer}/text")

    def element(self, element: Any, pointer: str) -> None:
        if not isinstance(element, dict) or not isinstance(element.get("type"), str):
            self.add("must provide an object with a type", pointer)
            return
        self.max_len(element.get("action_id"), 255, f"{pointer}/action_id")
        if element["type"] == "button":
            self.text_object(element.get("text"), f"{pointer}/text", limit=75, plain_only=True)
            self.max_len(element.get("value"), 2000, f"{pointer}/value")
            self.max_len(element.get("url"), 3000, f"{pointer}/url")
            if element.get("style") not in (None, "primary", "danger"):
                self.add("must be one of primary, danger", f"{pointer}/style")
        if "confirm" in element:
            self.confirm(element["confirm"], f"{pointer}/confirm")

    def confirm(self, dialog: Any, pointer: str) -> None:
        """A confirmation dialog object: its title, text and buttons are plain_text."""
        if not isinstance(dialog, dict):
            self.add("must provide an object", pointer)
            return
        for key, limit in (("title", 100), ("text", 300), ("confirm", 30), ("deny", 30)):
            self.text_object(dialog.get(key), f"{pointer}/{key}", limit=limit, plain_only=True)

    def elements(self, block: dict[str, Any], pointer: str, *, limit: int) -> list[Any]:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.add("must provide an array with at least 1 item", f"{pointer}/elements")
            return []
        if len(elements) > limit:
            self.add(f"no more than {limit} items allowed", f"{pointer}/elements")
        return elements

    def block(self, block: Any, pointer: str) -> None:
        if not isinstance(block, dict):
            self.add("must provide an object", pointer)
            return
        kind = block.get("type")
        if kind not in _BLOCK_TYPES:
            self.add(f"unsupported type: {kind}", f"{pointer}/type")
            return
        self.max_len(block.get("block_id"), 255, f"{pointer}/block_id")
        if kind == "section":
            self.section(block, pointer)
        elif kind == "actions":
            for i, element in enumerate(self.elements(block, pointer, limit=25)):
                self.element(element, f"{pointer}/elements/{i}")
        elif kind == "context":
            self.elements(block, pointer, limit=10)
        elif kind == "header":
            self.text_object(block.get("text"), f"{pointer}/text", limit=150, plain_only=True)
        elif kind == "markdown":
            self.max_len(block.get("text"), 12000, f"{pointer}/text")
        elif kind == "input":
            self.text_object(block.get("label"), f"{pointer}/label", limit=2000, plain_only=True)
            self.element(block.get("element"), f"{pointer}/element")

    def section(self, block: dict[str, Any], pointer: str) -> None:
        text, fields = block.get("text"), block.get("fields")
        if text is None and fields is None:
            self.add("must provide either text or fields", pointer)
        if text is not None:
            self.text_object(text, f"{pointer}/text", limit=3000)
        if fields is not None:
            if not isinstance(fields, list):
                self.add("must provide an array", f"{pointer}/fields")
            else:
                if len(fields) > 10:
                    self.add("no more than 10 items allowed", f"{pointer}/fields")
                for i, field in enumerate(fields):
                    self.text_object(field, f"{pointer}/fields/{i}", limit=2000)
        if "accessory" in block:
            self.element(block["accessory"], f"{pointer}/accessory")


def validate_blocks(
    blocks: list[Any], *, limit: int = MAX_MESSAGE_BLOCKS, pointer: str = "/blocks"
) -> list[str]:
    """All limit violations in `blocks` (empty list when valid)."""
    collector = _Collector()
    if len(blocks) > limit:
        collector.add(f"no more than {limit} items allowed", pointer)
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        collector.block(block, f"{pointer}/{i}")
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if isinstance(block_id, str):
            if block_id in seen:
                collector.add(f"duplicate block_id: {block_id}", f"{pointer}/{i}/block_id")
            seen.add(block_id)
    return collector.errors


def validate_modal(view: Any) -> list[str]:
    collector = _Collector()
    if not isinstance(view, dict):
        collector.add("must provide an object", "/view")
        return collector.errors
    if view.get("type") != "modal":
        collector.add("must be modal", "/view/type")
    collector.text_object(view.get("title"), "/view/title", limit=24, plain_only=True)
    for key in ("submit", "close"):
        if view.get(key) is not None:
            collector.text_object(view[key], f"/view/{key}", limit=24, plain_only=True)
    collector.max_len(view.get("private_metadata"), 3000, "/view/private_metadata")
    collector.max_len(view.get("callback_id"), 255, "/view/callback_id")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        collector.add("must provide an array", "/view/blocks")
        return collector.errors
    collector.errors.extend(validate_blocks(blocks, limit=MAX_MODAL_BLOCKS, pointer="/view/blocks"))
    return collector.errors


def validate_home(view: Any) -> list[str]:
    """A Home tab view (views.publish): type home, up to 100 blocks, no title or buttons."""
    collector = _Collector()
    if not isinstance(view, dict):
        collector.add("must provide an object", "/view")
        return collector.errors
    if view.get("type") != "home":
        collector.add("must be home", "/view/type")
    collector.max_len(view.get("private_metadata"), 3000, "/view/private_metadata")
    collector.max_len(view.get("callback_id"), 255, "/view/callback_id")
    collector.max_len(view.get("external_id"), 255, "/view/external_id")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        collector.add("must provide an array", "/view/blocks")
        return collector.errors
    collector.errors.extend(validate_blocks(blocks, limit=MAX_MODAL_BLOCKS, pointer="/view/blocks"))
    return collector.errors


def interactive_elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    """Elements of a block that can carry an action_id (and so appear in payloads)."""
    found: list[Any] = []
    if block.get("type") == "actions":
        found.extend(block.get("elements") or [])
    if block.get("type") == "input":
        found.append(block.get("element"))
    found.append(block.get("accessory"))
    return [e for e in found if isinstance(e, dict)]


def normalize_blocks(blocks: list[Any], *, new_id: Callable[[], str]) -> list[Any]:
    """Slack fills in block_id and action_id when the app leaves them out, and interaction
    payloads always carry both."""
    out = copy.deepcopy(blocks)
    for block in out:
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", new_id())
        for element in interactive_elements(block):
            element.setdefault("action_id", new_id())
    return out
