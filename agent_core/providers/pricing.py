"""What a reply cost: a price table in USD per million tokens, and ``cost_usd``.

The built-in table covers a few current Anthropic and OpenAI models at list price
(standard tier, no batch discounts). Prompt-cache tokens (Anthropic reports writes and
reads apart from input; OpenAI reports the reads of its automatic cache within input,
and signoff counts them apart) are priced at an entry's ``cache_write`` / ``cache_read``
when it gives them (the built-in OpenAI entries give OpenAI's cached-input price). Else
at Anthropic's documented multipliers of the input price: 1.25x for a write to the
5-minute cache, and 0.1x for a read by a Claude model; any other model's reads cost its
input price, never below the bill for a discount nobody stated. A TOML or JSON file
overrides or extends the table; ``.toml`` files are read as TOML, anything else as JSON::

    # prices.toml — USD per million tokens
    replace_defaults = false          # optional; true: use only this file's models

    [models."claude-sonnet-4-5"]
    input = 3.0
    output = 15.0
    cache_write = 3.75                # optional (default: 1.25 x input)
    cache_read = 0.30                 # optional (default: 0.1 x input)

    [models."llama3.1:8b"]            # a local model: free
    input = 0
    output = 0

    {"models": {"gpt-4o": {"input": 2.5, "output": 10.0}}}      # the same, as JSON

Lookup ignores case and a leading ``anthropic:`` / ``openai:`` / ``openai-compatible:``,
and falls back from a dated snapshot (``claude-sonnet-4-5-20250929``, ``gpt-4o-2024-08-06``)
or ``-latest`` alias to its base name. Unknown models cost ``None``, never a guess.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sessions import parse_json, parse_toml, read_config_text

from ..messages import Usage
from .errors import ProviderConfigError

__all__ = ["DEFAULT_PRICES", "Price", "PriceTable", "cost_usd", "load_price_table"]

_PREFIXES = ("anthropic:", "openai-compatible:", "openai:")
_SNAPSHOT = re.compile(r"-(\d{8}|\d{4}-\d{2}-\d{2}|latest)$")


# Anthropic's documented prompt-cache prices, relative to the input price: a write to the
# 5-minute cache (the only one signoff asks for), and a read, for Claude models only.
CACHE_WRITE_MULTIPLIER = 1.25
CACHE_READ_MULTIPLIER = 0.1


@dataclass(frozen=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float
    cache_write_per_mtok: float | None = None
    """None: ``CACHE_WRITE_MULTIPLIER`` times the input price."""
    cache_read_per_mtok: float | None = None
    """None: ``CACHE_READ_MULTIPLIER`` times the input price for a Claude model, else
    the input price."""

    def cost(self, usage: Usage, *, claude: bool) -> float:
        """USD for ``usage``; ``claude``: a read the entry gives no price is Anthropic's."""
        write = self.cache_write_per_mtok
        read = self.cache_read_per_mtok
        if write is None:
            write = self.input_per_mtok * CACHE_WRITE_MULTIPLIER
        if read is None:
            read = self.input_per_mtok * (CACHE_READ_MULTIPLIER if claude else 1.0)
        return (
            usage.input_tokens * self.input_per_mtok
            + usage.output_tokens * self.output_per_mtok
            + usage.cache_write_tokens * write
            + usage.cache_read_tokens * read
        ) / 1_000_000


def _p(inp: float, out: float, cached: float | None = None) -> Price:
    return Price(inp, out, None, cached)


DEFAULT_PRICES: Mapping[str, Price] = MappingProxyType(
    {
        # Anthropic
        "claude-opus-5-5": _p(4.0, 20.0),
        "claude-opus-5": _p(5.0, 25.0),
        "claude-fable-5-1": _p(10.0, 50.0),
        "claude-sonnet-5-5": _p(2.0, 10.0),
        "claude-sonnet-5": _p(3.0, 15.0),
        "claude-opus-4-6": _p(5.0, 25.0),
        "claude-opus-4-5": _p(5.0, 25.0),
        "claude-opus-4-1": _p(15.0, 75.0),
        "claude-sonnet-4-6": _p(3.0, 15.0),
        "claude-sonnet-4-5": _p(3.0, 15.0),
        "claude-sonnet-4": _p(3.0, 15.0),
        "claude-haiku-4-5": _p(1.0, 5.0),
        # OpenAI; the third price is cached input (what its automatic prompt cache serves)
        "gpt-5": _p(1.25, 10.0, 0.125),
        "gpt-5-mini": _p(0.25, 2.0, 0.025),
        "gpt-5-nano": _p(0.05, 0.40, 0.005),
        "gpt-4.1": _p(2.0, 8.0, 0.50),
        "gpt-4.1-mini": _p(0.40, 1.60, 0.10),
        "gpt-4.1-nano": _p(0.10, 0.40, 0.025),
        "gpt-4o": _p(2.50, 10.0, 1.25),
        "gpt-4o-mini": _p(0.15, 0.60, 0.075),
        "o3": _p(2.0, 8.0, 0.50),
        "o4-mini": _p(1.10, 4.40, 0.275),
    }
)


def _key(model: str) -> str:
    name = model.strip().lower()
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


class PriceTable:
    """Model name -> ``Price``, with the lookup rules above."""

    def __init__(self, prices: Mapping[str, Price]) -> None:
        self._prices = {_key(name): price for name, price in prices.items()}

    def __len__(self) -> int:
        return len(self._prices)

    def lookup(self, model: str) -> Price | None:
        key = _key(model)
        price = self._prices.get(key)
        if price is None:
            base = _SNAPSHOT.sub("", key)
            price = self._prices.get(base) if base != key else None
        return price

    def cost_usd(self, model: str, usage: Usage) -> float | None:
        price = self.lookup(model)
        if price is None:
            return None
        return price.cost(usage, claude=_key(model).startswith("claude"))


_DEFAULT_TABLE = PriceTable(DEFAULT_PRICES)


def _number(value: object, where: str) -> float:
    # Finite: a NaN price makes every cost NaN, which no USD budget is ever over.
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        raise ValueError(f"{where} must be a finite, non-negative number")
    return float(value)


def _optional(entry: Mapping[str, object], key: str, where: str) -> float | None:
    return None if key not in entry else _number(entry[key], where)


def _parse(data: object) -> tuple[dict[str, Price], bool]:
    if not isinstance(data, dict):
        raise ValueError("the top level must be a table/object")
    replace = data.get("replace_defaults", False)
    if not isinstance(replace, bool):
        raise ValueError("replace_defaults must be true or false")
    models = data.get("models")
    if not isinstance(models, dict):
        raise ValueError('missing "models" table')
    out: dict[str, Price] = {}
    for name, entry in models.items():
        if not isinstance(entry, dict):
            raise ValueError(f"models.{name} must be a table with input and output")
        out[str(name)] = Price(
            _number(entry.get("input"), f"models.{name}.input"),
            _number(entry.get("output"), f"models.{name}.output"),
            _optional(entry, "cache_write", f"models.{name}.cache_write"),
            _optional(entry, "cache_read", f"models.{name}.cache_read"),
        )
    return out, replace


def load_price_table(path: str | Path | None = None) -> PriceTable:
    """The built-in table, overridden/extended by the file at ``path`` if given.

    Raises ``ProviderConfigError`` (reason ``bad_price_table``) naming the file and
    the problem when it cannot be read.
    """
    if path is None:
        return _DEFAULT_TABLE
    file = Path(path)
    try:
        text = read_config_text(file)
        data: Any = parse_toml(text) if file.suffix == ".toml" else parse_json(text)
        prices, replace = _parse(data)
    except (OSError, ValueError) as exc:
        raise ProviderConfigError(
            f"Cannot use the price table {file}: {exc}", reason="bad_price_table"
        ) from None
    merged = dict(prices) if replace else {**DEFAULT_PRICES, **prices}
    return PriceTable(merged)


def cost_usd(model: str, usage: Usage, *, prices: PriceTable | None = None) -> float | None:
    """USD for ``usage`` on ``model`` (a bare name or ``provider:name``), ``None`` when the
    table has no price for it. ``prices`` defaults to the built-in table."""
    table = prices if prices is not None else _DEFAULT_TABLE
    return table.cost_usd(model, usage)
