"""Settings from the environment, validated at start-up: fail closed, say what is wrong.

Tokens come from the environment only; they are kept out of ``repr`` so they never
reach a log, a trace or a card.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from agent_core.demo_fleet import demo_registry
from agent_core.tools import Tool, ToolRegistry
from approvals import Policy, load_policy

__all__ = ["ConfigError", "Settings", "load_registry", "parse_bind"]

# Every SIGNOFF_* variable signoff reads; any other is a typo and stops start-up. The last
# four steer tests and benchmarks only.
KNOWN = (
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "SIGNOFF_HOME",
    "SIGNOFF_MODEL",
    "SIGNOFF_POLICY",
    "SIGNOFF_TOOLS",
    "SIGNOFF_BUDGET_TOKENS",
    "SIGNOFF_BUDGET_USD",
    "SIGNOFF_PRICE_TABLE",
    "SIGNOFF_HTTP",
    "SIGNOFF_LOG_FORMAT",
    "SIGNOFF_LOG_LEVEL",
    "SIGNOFF_DRAIN_S",
    "SIGNOFF_FAILPOINT",
    "SIGNOFF_FSYNC",
    "SIGNOFF_CHROMIUM",
    "SIGNOFF_UPDATE_SCREENSHOT",
)


class ConfigError(ValueError):
    pass


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    home: Path
    model: str = "offline"
    policy_path: Path | None = None
    tool_modules: tuple[str, ...] = ()
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")
    # Per-session budgets: tokens always, USD when the model has a price.
    budget_tokens: int = Field(default=200_000, gt=0)
    budget_usd: float | None = Field(default=None, gt=0)
    price_table: Path | None = None
    # Operators: where /healthz, /readyz and /metrics listen ("off": nowhere), the log
    # format (None: text on a terminal, JSON otherwise) and level (None: the command's
    # default), and how long SIGTERM lets running turns finish.
    http: str = "127.0.0.1:9464"
    log_format: Literal["json", "text"] | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None = None
    drain_s: float = Field(default=20.0, ge=0, le=3600)

    @field_validator("http")
    @classmethod
    def _http(cls, value: str) -> str:
        parse_bind(value)
        return value

    @property
    def http_bind(self) -> tuple[str, int] | None:
        """(host, port) for the operators' HTTP server, or None when it is off."""
        return parse_bind(self.http)

    @field_validator("slack_bot_token")
    @classmethod
    def _bot(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("SLACK_BOT_TOKEN must be a bot token (xoxb-…)")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("SLACK_APP_TOKEN must be an app-level token (xapp-…)")
        return value

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        unknown = sorted(k for k in env if k.startswith("SIGNOFF_") and k not in KNOWN)
        if unknown:
            raise ConfigError(
                f"unknown setting {', '.join(unknown)}; known: {', '.join(KNOWN[:-4])}"
            )
        tools = get("SIGNOFF_TOOLS")
        try:
            return cls(
                home=Path(get("SIGNOFF_HOME") or Path.cwd() / ".signoff").resolve(),
                model=get("SIGNOFF_MODEL") or "offline",
                policy_path=Path(p) if (p := get("SIGNOFF_POLICY")) else None,
                tool_modules=tuple(t.strip() for t in tools.split(",") if t.strip())
                if tools
                else (),
                slack_bot_token=get("SLACK_BOT_TOKEN"),
                slack_app_token=get("SLACK_APP_TOKEN"),
                slack_api_url=get("SLACK_API_URL"),
                budget_tokens=get("SIGNOFF_BUDGET_TOKENS") or 200_000,
                budget_usd=get("SIGNOFF_BUDGET_USD"),
                price_table=Path(p) if (p := get("SIGNOFF_PRICE_TABLE")) else None,
                http=get("SIGNOFF_HTTP") or "127.0.0.1:9464",
                log_format=(get("SIGNOFF_LOG_FORMAT") or "").lower() or None,
                log_level=(get("SIGNOFF_LOG_LEVEL") or "").upper() or None,
                drain_s=get("SIGNOFF_DRAIN_S") or 20.0,
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else "settings"
            raise ConfigError(f"configuration: {field}: {first['msg']}") from None

    def policy(self) -> Policy:
        return load_policy(self.policy_path)


def parse_bind(text: str) -> tuple[str, int] | None:
    """``host:port`` (``[::1]:9464`` for IPv6) or ``off``; raises ValueError otherwise."""
    value = text.strip()
    if value.lower() == "off":
        return None
    host, sep, port = value.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"must be host:port (e.g. 127.0.0.1:9464) or off, not {text!r}")
    return host, int(port)


def load_registry(modules: tuple[str, ...]) -> ToolRegistry:
    """The demo fleet plus every ``Tool`` a SIGNOFF_TOOLS module exposes in ``TOOLS``."""
    registry = demo_registry()
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ConfigError(f"SIGNOFF_TOOLS: cannot import {name}: {exc}") from exc
        tools = getattr(module, "TOOLS", None)
        if not isinstance(tools, list | tuple) or not all(isinstance(t, Tool) for t in tools):
            raise ConfigError(f"SIGNOFF_TOOLS: {name} must define TOOLS, a list of @tool functions")
        for item in tools:
            registry.register(item)
    return registry
