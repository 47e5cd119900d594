"""``SIGNOFF_CONFIG``: one TOML file for tools and policy, validated before anything starts.

    [policy.default]                  # optional; the keys of a SIGNOFF_POLICY file
    [policy.tools.ops__scale]
    [mcp.servers.ops]                 # an MCP server: its tools are ops__<tool>
    [commands.rollout_restart]        # a command tool

Unknown keys and bad values are errors naming the key. ``${VAR}`` in the values of a
server's ``env`` and ``headers`` and of a command's ``env`` expands from signoff's
environment (``$${`` is a literal ``${``); a variable that is not set, or is empty, is an
error, so a token never silently becomes empty.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent_core.tools.mcp_spec import McpServerSpec
from agent_core.tools.specs import SERVER_NAME, TOOL_NAME, CommandSpec
from sessions import config_problem, parse_toml, read_config_text

from .errors import ConfigError

__all__ = ["McpSection", "SignoffConfig", "load_config"]

# `$${` is a literal `${`; any other `$` (a `$$` in a password too) is kept as written.
_VAR = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class McpSection(_Strict):
    servers: dict[str, McpServerSpec] = Field(default_factory=dict)

    @field_validator("servers")
    @classmethod
    def _names(cls, value: dict[str, McpServerSpec]) -> dict[str, McpServerSpec]:
        for name, spec in value.items():
            if not SERVER_NAME.fullmatch(name):
                raise ValueError(
                    f"server name {name!r}: use letters, digits, - and single _ (at most 30); "
                    "its tools are named <server>__<tool>"
                )
            # The policy names ops__scale; written here, it would match nothing: an
            # exclude that excludes nothing offers the tool, silently.
            prefix = f"{name}__"
            for key in ("include", "exclude", "no_approval"):
                for pattern in getattr(spec, key):
                    if pattern.startswith(prefix):
                        raise ValueError(
                            f"{name}.{key}: {pattern!r} is a tool's full name ({prefix}…); "
                            "these patterns match the server's own tool names: write "
                            f"{pattern.removeprefix(prefix)!r}"
                        )
        return value


class SignoffConfig(_Strict):
    schema_version: Literal[1] = 1
    # Checked by approvals.Policy.from_mapping, like a SIGNOFF_POLICY file.
    policy: dict[str, Any] | None = None
    mcp: McpSection = Field(default_factory=McpSection)
    commands: dict[str, CommandSpec] = Field(default_factory=dict)

    @field_validator("commands")
    @classmethod
    def _names(cls, value: dict[str, CommandSpec]) -> dict[str, CommandSpec]:
        for name in value:
            if not TOOL_NAME.fullmatch(name) or "__" in name:
                raise ValueError(
                    f"command name {name!r}: use letters, digits, - and single _ (at most 64)"
                )
        return value


def _expand(text: str, env: Mapping[str, str], where: str) -> str:
    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name = match.group(1)
        if name not in env:
            raise ConfigError(f"{where}: ${{{name}}} is not set in signoff's environment")
        if not env[name]:  # `NAME=` left blank in an environment file: no token either
            raise ConfigError(f"{where}: ${{{name}}} is empty in signoff's environment")
        return env[name]

    return _VAR.sub(one, text)


def _expand_tables(data: dict[str, Any], env: Mapping[str, str], source: str) -> None:
    """Expand ${VAR} in place, in the tables that take it (and only there)."""
    targets: list[tuple[str, Any]] = []
    servers = data.get("mcp", {}).get("servers", {}) if isinstance(data.get("mcp"), dict) else {}
    if isinstance(servers, dict):
        for name, server in servers.items():
            if isinstance(server, dict):
                targets += [(f"mcp.servers.{name}.{k}", server.get(k)) for k in ("env", "headers")]
    commands = data.get("commands", {})
    if isinstance(commands, dict):
        for name, command in commands.items():
            if isinstance(command, dict):
                targets.append((f"commands.{name}.env", command.get("env")))
    for where, table in targets:
        if not isinstance(table, dict):
            continue
        for key, value in table.items():
            if isinstance(value, str):
                table[key] = _expand(value, env, f"{source}: {where}.{key}")


def load_config(path: Path, env: Mapping[str, str], *, expand: bool = True) -> SignoffConfig:
    """The validated file; ConfigError with one line naming the key when it is not.

    ``expand=False``: ``${VAR}`` left as written, for a command that starts no tool (its
    ``[policy]`` is all ``pending`` needs), run where the bot's tokens are not set."""
    try:
        data = parse_toml(read_config_text(path))
    except FileNotFoundError:
        raise ConfigError(f"SIGNOFF_CONFIG: no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"SIGNOFF_CONFIG: cannot read {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except ValueError as exc:  # a FIFO, a device, a file of gigabytes
        raise ConfigError(f"SIGNOFF_CONFIG: cannot use {path}: {exc}") from None
    if expand:
        _expand_tables(data, env, str(path))
    try:
        return SignoffConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {config_problem(exc)}") from None
