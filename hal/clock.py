"""The clock the HAL runs on: ``time()`` and ``sleep()``, injected so tests drive time by hand.

Any object with these two methods will do (a station passes its own clock); :class:`SystemClock`
is the default.  Every timer of the HAL (ACK timeouts, PINGs, liveness, the simulator's ticks)
reads time through it and never sleeps on the wall clock itself.
"""

from __future__ import annotations

import asyncio
import time as _time
from typing import Any, Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Epoch seconds."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""


class SystemClock:
    """Wall-clock time and asyncio sleeps."""

    def time(self) -> float:
        return _time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


async def wait_for_future(fut: asyncio.Future[Any], clock: Clock, timeout: float) -> bool:
    """Wait until ``fut`` is done or ``timeout`` seconds of ``clock`` passed; True if done."""
    sleeper: asyncio.Future[Any] = asyncio.ensure_future(clock.sleep(timeout))
    try:
        await asyncio.wait({fut, sleeper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()
    return fut.done()
