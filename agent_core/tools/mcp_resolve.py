"""Whether an HTTP MCP server's host name resolves, asked before connecting, with a bound.

httpx resolves in asyncio's executor. A resolver that never answers made the attempt end as
"no answer in time", as for a server that took the connection and was slow (an operator
looked at a server nobody had asked), and held the process at exit until the resolver
gave up: the executor's threads are joined then (30 s and more with a search list). Asked
here first, in a daemon thread nothing waits for, such a name is said as what it is, and
by name (the URL, which may hold credentials, is never said).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import threading
import urllib.request
from urllib.parse import urlsplit

from .mcp_reasons import describe_error

__all__ = ["unresolved"]


def _proxied(scheme: str, host: str) -> bool:
    # As httpx reads the environment: through a proxy, the proxy resolves the name.
    proxies = urllib.request.getproxies_environment()
    return bool(proxies.get(scheme) or proxies.get("all")) and not urllib.request.proxy_bypass(host)


def _address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def unresolved(url: str, *, within: float, said: str) -> str | None:
    """Why ``url``'s host name cannot be resolved within ``within`` seconds (``said`` as
    configured, for the reason); None when it resolves, or is not looked up here."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host or _address(host) or _proxied(parts.scheme, host):
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[OSError | None] = loop.create_future()

    def settle(result: OSError | None) -> None:
        if not answer.done():
            answer.set_result(result)

    def lookup() -> None:
        result: OSError | None = None
        try:
            socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            result = exc
        except Exception:
            pass  # a name idna refuses: httpx says it when it connects, as before
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
            loop.call_soon_threadsafe(settle, result)

    threading.Thread(target=lookup, name=f"resolve-{host}", daemon=True).start()
    try:
        async with asyncio.timeout(within):
            failed = await answer
    except TimeoutError:
        return f"its host name {host} did not resolve within {said}"
    if isinstance(failed, socket.gaierror):
        # Named: a server table may be one of several, and its URL is not in the line.
        return f"its host name {host} does not resolve ({str(failed.strerror).lower()})"
    return None if failed is None else describe_error(failed)
