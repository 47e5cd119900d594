"""The model and its costs, from settings: ``offline`` (the default) needs no key."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace

from agent_core.budgets import Budgets, CostFunction
from agent_core.messages import Usage
from agent_core.model import Model
from agent_core.offline import OfflineModel
from agent_core.providers import (
    ModelSettings,
    PriceTable,
    ProviderConfigError,
    cost_usd,
    load_price_table,
    model_from_spec,
    parse_spec,
)

from .config import ConfigError, Settings

__all__ = ["build_budgets", "build_cost", "build_model"]


def build_model(
    spec: str,
    env: Mapping[str, str] | None = None,
    *,
    history_chars: int | None = None,
    prompt_cache: bool = True,
    max_output_tokens: int | None = None,
    retry_scale: float = 1.0,
) -> Model:
    """``SIGNOFF_MODEL`` → a Model; keys and base URLs come from the environment.
    ``max_output_tokens`` None: the provider's default (``default_max_tokens``).
    ``retry_scale`` scales the waits between a failed call's attempts (as many are made)."""
    settings = ModelSettings(prompt_cache=prompt_cache, max_tokens=max_output_tokens)
    if retry_scale != 1.0:
        policy = settings.retry
        settings = replace(
            settings,
            retry=replace(
                policy,
                base_delay_s=policy.base_delay_s * retry_scale,
                max_delay_s=policy.max_delay_s * retry_scale,
            ),
        )
    if history_chars is not None:
        settings = replace(settings, history_chars=history_chars)
    try:
        model = model_from_spec(spec, env=os.environ if env is None else env, settings=settings)
    except ProviderConfigError as exc:
        said = str(exc)  # most name SIGNOFF_MODEL=… themselves
        raise ConfigError(
            said if said.startswith("SIGNOFF_MODEL") else f"SIGNOFF_MODEL: {said}"
        ) from None
    return OfflineModel() if model is None else model


def build_cost(settings: Settings) -> CostFunction:
    try:
        prices = load_price_table(settings.price_table)
    except ProviderConfigError as exc:
        raise ConfigError(f"SIGNOFF_PRICE_TABLE: {exc}") from None
    if settings.budget_usd is not None:
        _check_priced(settings.model, prices)

    def cost(model: str, usage: Usage) -> float | None:
        price = cost_usd(model, usage, prices=prices)
        if price is None:
            # A gateway may answer under a name of its own (a deployment, a dated alias):
            # priced as the model asked for, a cost is never below the bill.
            price = cost_usd(settings.model, usage, prices=prices)
        return price

    return cost


def _check_priced(model_spec: str, prices: PriceTable) -> None:
    """A USD budget needs the model's price: every call of a model the table lacks cost
    nothing, so the budget was never reached, and nothing said so."""
    try:
        spec = parse_spec(model_spec)
    except ProviderConfigError:
        return  # build_model says what is wrong with it
    if spec is not None and prices.lookup(spec.model) is None:
        raise ConfigError(
            f"SIGNOFF_BUDGET_USD: the price table has no price for {spec.model}, so no "
            "spend could be counted; give it one in SIGNOFF_PRICE_TABLE (0 for a local model)"
        )


def build_budgets(settings: Settings) -> Budgets:
    return Budgets(
        max_tokens=settings.budget_tokens,
        max_usd=settings.budget_usd,
        max_calls_per_reply=settings.max_calls_per_reply,
    )
