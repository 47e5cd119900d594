"""How an MCP server is configured: ``[mcp.servers.NAME]`` of ``SIGNOFF_CONFIG`` after
``${VAR}`` expansion, frozen, strict, checked at load; nothing here starts a process."""

from __future__ import annotations

import json
import re
from typing import Annotated

from pydantic import AfterValidator, Field, SecretStr, model_validator

from sessions import check_http_url, without_credentials

from .env_secrets import secret_values, setting_values
from .specs import EnvName, Timed, named, no_nul

__all__ = ["McpServerSpec"]

# What an HTTP request can carry (RFC 9110 tokens; visible ASCII, inner spaces and tabs).
_HEADER_NAME = re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"(?:[\x21-\x7e](?:[ \t]*[\x21-\x7e])*)?")

HeaderName = Annotated[str, named(_HEADER_NAME, "an HTTP header name")]


def _header_value(value: SecretStr) -> SecretStr:
    """Refused here, never at the request: the HTTP library's error quotes the value (the
    token), and the server would be "down" for as long as signoff runs."""
    text = value.get_secret_value()
    if _HEADER_VALUE.fullmatch(text):
        return value
    if "\n" in text or "\r" in text:
        raise ValueError("the value has a line break (a trailing newline in the variable?)")
    if text != text.strip(" \t"):
        raise ValueError("the value starts or ends with whitespace")
    raise ValueError("the value may hold only printable ASCII")


def _mcp_url(value: str) -> str:
    unexpanded = re.search(r"\$\{[^}]*\}", value)
    if unexpanded:  # never a valid host or path: a server that is down for good
        raise ValueError(
            f"{unexpanded.group(0)} does not expand in url (only in env and headers): "
            "write the URL itself"
        )
    return check_http_url(value, example="https://mcp.example.com/mcp")


class McpServerSpec(Timed):
    """``[mcp.servers.NAME]``: how to reach one MCP server and which of its tools to offer."""

    command: tuple[str, ...] | None = Field(default=None, min_length=1)
    url: Annotated[str, AfterValidator(_mcp_url)] | None = None
    env: dict[EnvName, SecretStr] = Field(default_factory=dict)
    headers: dict[HeaderName, Annotated[SecretStr, AfterValidator(_header_value)]] = Field(
        default_factory=dict
    )
    include: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()
    no_approval: tuple[str, ...] = ()
    timeout: str = "30s"

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerSpec:
        no_nul("command", self.command or ())
        no_nul("env", (v.get_secret_value() for v in self.env.values()))
        if (self.command is None) == (self.url is None):
            raise ValueError("give exactly one of command (stdio) or url (streamable HTTP)")
        if self.command is not None and not self.command[0]:
            raise ValueError("command[0], the program, is empty")
        if self.url is not None and self.env:
            raise ValueError("env is for stdio servers (command); an HTTP server takes headers")
        if self.command is not None and self.headers:
            raise ValueError("headers are for HTTP servers (url); a stdio server takes env")
        return self

    @property
    def secrets(self) -> tuple[str, ...]:
        """The values of ``headers``, of ``env`` named as secrets and passwords of URLs in
        ``env``: masked wherever they would be shown."""
        return (*(v.get_secret_value() for v in self.headers.values()), *secret_values(self.env))

    @property
    def pinned_config(self) -> str:
        """Which server a call goes to: its command or URL (never the URL's credentials),
        the settings in its env and the names of its headers. An approval pins it with the
        tool's schema: the same schema on a server pointed elsewhere is not what was
        approved. Never a secret's value: a rotated token is the same server."""
        where: dict[str, object] = {"headers": sorted(self.headers)}
        if self.command is not None:
            where["command"] = list(self.command)
        if self.url is not None:
            where["url"] = without_credentials(self.url)
        settings = setting_values(self.env)
        if settings:
            where["settings"] = settings
        return json.dumps(where, sort_keys=True)

    @property
    def transport(self) -> str:
        return "stdio" if self.command is not None else "streamable HTTP"
