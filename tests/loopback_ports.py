"""A loopback port for a test's server to listen on, or to dial and be refused.

A plain module (tests/ is on ``sys.path`` under every test directory, by its conftest.py).
A port that ``bind(("127.0.0.1", 0))`` handed back is in the kernel's ephemeral range, and
between closing that socket and the server's bind any process may take it again: another
test's ``bind(0)``, or any outgoing connection's local end. ``signoff dev`` then failed
with "address already in use". A port below that range is handed out by neither; one that
binds now is free unless another test picked the very same number.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

__all__ = ["free_port"]

_FIRST = 10_000
_PICK = random.SystemRandom()  # never the sequence of a test that seeded `random`


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def free_port() -> int:
    """A loopback port nothing listens on, below the ephemeral range."""
    last = max(_FIRST + 1_000, _ephemeral_start())
    for _ in range(1_000):
        port = _PICK.randrange(_FIRST, last)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free loopback port in {_FIRST}-{last}")
