"""Choosing the model from ``SIGNOFF_MODEL``: ``offline`` (the default) needs no key."""

from __future__ import annotations

from collections.abc import Mapping

from agent_core.model import Model
from agent_core.offline import OfflineModel

from .config import ConfigError

__all__ = ["build_model"]


def build_model(spec: str, env: Mapping[str, str] | None = None) -> Model:
    if spec == "offline":
        return OfflineModel()
    raise ConfigError(f"SIGNOFF_MODEL: unknown model {spec!r}")
