"""Stopping delivery when a wake-up and the stop come together.

On Python 3.11, ``asyncio.wait_for`` returns the inner result instead of raising when its
task is cancelled in the same loop step as the inner wait finishes (the event was set
just before ``cancel``): a loop that waits that way never sees the cancel, and
``Delivery.stop`` (and so ``Engine.close`` and the bot's shutdown) waited forever.
"""

from __future__ import annotations

import asyncio

from agent_core.delivery import Delivery
from agent_core.surface import RecordingSurface
from sessions import Home


async def test_stop_right_after_a_wake_up_ends_the_delivery_loop(home: Home) -> None:
    delivery = Delivery(home=home, surface=RecordingSurface(), poll=30.0)
    delivery.start()
    for _ in range(5):  # its first pass done, it waits for a wake-up (or 30 s)
        await asyncio.sleep(0)
    assert delivery.owner
    delivery.wake()  # the waiting loop is now due to resume ...
    stopping = asyncio.ensure_future(delivery.stop())  # ... and cancelled in the same step
    done, _ = await asyncio.wait({stopping}, timeout=5)
    assert done, "Delivery.stop() never returned"
    stopping.result()
