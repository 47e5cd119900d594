"""Which of a tool's environment values are secrets, and which are settings.

A secret is masked in what the tool says; a setting (a namespace, a kubeconfig path) is
what a command acts on, which an approval pins (``command.py``, ``mcp_spec.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import SecretStr

__all__ = ["secret_values", "setting_values"]

# An env variable whose name says it holds a secret (OPS_TOKEN, DB_PASSWORD, API_KEY…).
# Only those are masked in results: a namespace, a region or a path is a setting the
# model needs to read, and masked inside other words it garbled what a tool said.
_SECRET_NAME = re.compile(r"TOKEN|KEY|SECRET|PASS|CREDENTIAL|AUTH|PRIVATE|COOKIE|SESSION", re.I)


# The password of a URL (postgres://app:PASSWORD@db/prod): a secret whatever the variable
# holding it is called (DATABASE_URL, BROKER), and a failing client often prints the URL.
_URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:([^/\s@]+)@")


def secret_values(env: Mapping[str, SecretStr]) -> tuple[str, ...]:
    """The values of ``env`` whose names say they are secret, and the passwords of URLs
    in the others."""
    found: list[str] = []
    for name, value in env.items():
        text = value.get_secret_value()
        if _SECRET_NAME.search(name):
            found.append(text)
        else:
            found += _URL_PASSWORD.findall(text)
    return tuple(found)


def setting_values(env: Mapping[str, SecretStr]) -> dict[str, str]:
    """The values of ``env`` that are settings (a namespace, a kubeconfig path), each URL's
    password left out: what a command acts on, which an approval pins."""
    return {
        name: _URL_PASSWORD.sub(_without_password, value.get_secret_value())
        for name, value in env.items()
        if not _SECRET_NAME.search(name)
    }


def _without_password(found: re.Match[str]) -> str:
    return found.group(0)[: found.start(1) - found.start(0)] + "@"
