"""Price table and cost_usd."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_core.messages import Usage
from agent_core.providers import (
    DEFAULT_PRICES,
    Price,
    PriceTable,
    ProviderConfigError,
    cost_usd,
    load_price_table,
)
from bot.config import ConfigError, Settings
from bot.models import build_cost

MILLION = Usage(input_tokens=1_000_000, output_tokens=1_000_000)


def test_default_table_knows_both_providers() -> None:
    assert cost_usd("claude-sonnet-4-5", MILLION) == pytest.approx(18.0)
    assert cost_usd("gpt-4o-mini", MILLION) == pytest.approx(0.75)
    assert cost_usd("gpt-4o", Usage(input_tokens=2000, output_tokens=500)) == pytest.approx(
        (2000 * 2.5 + 500 * 10) / 1e6
    )
    assert any(name.startswith("claude-") for name in DEFAULT_PRICES)
    assert any(name.startswith("gpt-") for name in DEFAULT_PRICES)


def test_lookup_rules() -> None:
    assert cost_usd("anthropic:claude-haiku-4-5", MILLION) == pytest.approx(6.0)
    assert cost_usd("claude-sonnet-4-5-20250929", MILLION) == pytest.approx(18.0)
    assert cost_usd("gpt-4o-2024-08-06", MILLION) == pytest.approx(12.5)
    assert cost_usd("openai:GPT-4o", MILLION) == pytest.approx(12.5)
    assert cost_usd("gpt-4o-mini-2024-07-18", MILLION) == pytest.approx(0.75)


def test_unknown_model_has_no_price() -> None:
    assert cost_usd("openai-compatible:llama3.1:8b", MILLION) is None
    assert cost_usd("claude-opus-4-7-experimental", MILLION) is None
    assert cost_usd("", MILLION) is None


def test_zero_usage_costs_zero() -> None:
    assert cost_usd("gpt-4o", Usage()) == 0.0


def test_toml_file_overrides_and_extends(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(
        '[models."gpt-4o"]\ninput = 1.0\noutput = 2.0\n\n'
        '[models."llama3.1:8b"]\ninput = 0\noutput = 0\n'
    )
    table = load_price_table(path)
    assert cost_usd("gpt-4o", MILLION, prices=table) == pytest.approx(3.0)
    assert cost_usd("openai-compatible:llama3.1:8b", MILLION, prices=table) == 0.0
    assert cost_usd("claude-sonnet-4-5", MILLION, prices=table) == pytest.approx(18.0)


def test_json_file_can_replace_defaults(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps({"replace_defaults": True, "models": {"my-model": {"input": 1, "output": 1}}})
    )
    table = load_price_table(str(path))
    assert len(table) == 1
    assert table.cost_usd("my-model", MILLION) == pytest.approx(2.0)
    assert table.cost_usd("gpt-4o", MILLION) is None
    empty = PriceTable({})
    assert cost_usd("gpt-4o", MILLION, prices=empty) is None


def test_no_path_is_the_default_table() -> None:
    assert load_price_table().lookup("gpt-4o") == Price(2.5, 10.0, None, 1.25)


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("bad.toml", "[models\n", "Cannot use the price table"),
        ("neg.json", '{"models": {"x": {"input": -1, "output": 1}}}', "non-negative"),
        ("str.json", '{"models": {"x": {"input": "1", "output": 1}}}', "models.x.input"),
        ("nomodels.json", '{"prices": {}}', 'missing "models"'),
        ("list.json", "[1, 2]", "top level"),
        # Taken: a NaN price made every cost NaN, which no USD budget is ever over.
        ("nan.json", '{"models": {"x": {"input": NaN, "output": 1}}}', "models.x.input"),
        ("inf.json", '{"models": {"x": {"input": 1, "output": 1e400}}}', "models.x.output"),
        ("nan.toml", "[models.x]\ninput = nan\noutput = 1\n", "models.x.input"),
    ],
)
def test_bad_files_are_config_errors(tmp_path: Path, name: str, text: str, problem: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ProviderConfigError, match=problem) as info:
        load_price_table(path)
    assert info.value.reason == "bad_price_table"
    assert str(path) in str(info.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ProviderConfigError, match="Cannot use the price table"):
        load_price_table(tmp_path / "nope.toml")


def test_cache_tokens_are_priced_at_anthropics_multipliers() -> None:
    # Anthropic bills a write to the 5-minute cache at 1.25x its input price and a read
    # at 0.1x; a table entry without cache prices is priced by those.
    usage = Usage(cache_write_tokens=1_000_000, cache_read_tokens=1_000_000)
    assert cost_usd("claude-sonnet-4-6", usage) == pytest.approx(3.0 * 1.25 + 3.0 * 0.1)
    assert cost_usd("claude-opus-5", Usage(cache_read_tokens=2_000_000)) == pytest.approx(1.0)
    whole = Usage(
        input_tokens=2000, output_tokens=300, cache_write_tokens=500, cache_read_tokens=40_000
    )
    assert cost_usd("claude-haiku-4-5", whole) == pytest.approx(
        (2000 * 1.0 + 300 * 5.0 + 500 * 1.25 + 40_000 * 0.1) / 1e6
    )


def test_a_table_entry_may_give_its_own_cache_prices(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(
        '[models."my-claude"]\ninput = 2.0\noutput = 8.0\ncache_write = 4.0\ncache_read = 0.5\n'
        '[models."half"]\ninput = 2.0\noutput = 8.0\ncache_read = 0\n'
    )
    table = load_price_table(path)
    usage = Usage(cache_write_tokens=1_000_000, cache_read_tokens=1_000_000)
    assert table.cost_usd("my-claude", usage) == pytest.approx(4.5)
    assert table.cost_usd("half", usage) == pytest.approx(2.0 * 1.25)  # write derived
    path.write_text('[models.x]\ninput = 1\noutput = 1\ncache_read = "cheap"\n')
    with pytest.raises(ProviderConfigError, match=r"models\.x\.cache_read"):
        load_price_table(path)


def test_a_reply_named_for_a_model_the_table_lacks_is_priced_as_the_one_asked_for() -> None:
    # A gateway (an Azure deployment, a proxy) may answer with a model name of its own:
    # priced by that name alone the call cost nothing, and SIGNOFF_BUDGET_USD was never
    # reached. The cost may be above the bill, never below it (docs/providers.md).
    settings = Settings.from_env({"SIGNOFF_MODEL": "anthropic:claude-sonnet-4-6"})
    cost = build_cost(settings)
    usage = Usage(input_tokens=1_000_000, output_tokens=0)
    asked = cost_usd("claude-sonnet-4-6", usage)
    assert asked is not None and asked > 0
    assert cost("my-gateway-deployment-7", usage) == asked
    assert cost("gpt-4o", usage) == cost_usd("gpt-4o", usage)  # a priced name is its own
    assert build_cost(Settings.from_env({}))("my-gateway-deployment-7", usage) is None


def test_a_usd_budget_no_price_can_enforce_stops_start_up(tmp_path: Path) -> None:
    """``SIGNOFF_BUDGET_USD`` with a model the table has no price for (a model newer than
    the table, a local one) priced every call at nothing: the budget was never reached,
    and nothing said so. Start-up fails closed instead, naming what to add."""
    budget = {"SIGNOFF_BUDGET_USD": "5"}
    for spec in ("anthropic:claude-sonnet-9-9", "openai-compatible:llama3.1:8b"):
        settings = Settings.from_env({"SIGNOFF_MODEL": spec, **budget})
        with pytest.raises(ConfigError) as info:
            build_cost(settings)
        said = str(info.value)
        assert said.startswith("SIGNOFF_BUDGET_USD") and spec.partition(":")[2] in said
        assert "SIGNOFF_PRICE_TABLE" in said
    prices = tmp_path / "prices.toml"
    prices.write_text('[models."llama3.1:8b"]\ninput = 0\noutput = 0\n')
    priced = {"SIGNOFF_PRICE_TABLE": str(prices), **budget}
    usage = Usage(input_tokens=1_000, output_tokens=1_000)
    for env in (
        {"SIGNOFF_MODEL": "openai-compatible:llama3.1:8b", **priced},  # priced, if at nothing
        {"SIGNOFF_MODEL": "anthropic:claude-sonnet-4-6-20260101", **budget},  # a snapshot
        {"SIGNOFF_MODEL": "anthropic:claude-sonnet-9-9"},  # no budget to enforce
        {"SIGNOFF_MODEL": "offline", **budget},  # nothing is paid
    ):
        build_cost(Settings.from_env(env))(env["SIGNOFF_MODEL"], usage)
