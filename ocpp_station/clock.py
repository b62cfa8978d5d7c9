"""Injected time.

Every timer in the station (heartbeats, back-off, retries, meter sampling, charging-schedule period
boundaries, the simulated EV) reads time through a :class:`Clock`, so tests drive time by hand
instead of sleeping.  ``time()`` is UTC epoch seconds; ``sleep`` waits on that same clock.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time as _time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """UTC epoch seconds."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""


class SystemClock:
    """Wall-clock time and asyncio sleeps."""

    def time(self) -> float:
        return _time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that only moves when a test calls :meth:`advance`.

    Sleepers are woken in deadline order; ``advance`` yields to the event loop after each wake-up so
    the woken tasks run before time moves on.
    """

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def time(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._seq), fut))
        await fut

    async def advance(self, seconds: float) -> None:
        target = self._now + seconds
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, fut = heapq.heappop(self._sleepers)
            self._now = max(self._now, deadline)
            if not fut.done():
                fut.set_result(None)
            for _ in range(5):
                await asyncio.sleep(0)
        self._now = target
        for _ in range(5):
            await asyncio.sleep(0)


class OffsetClock:
    """A clock corrected by the CSMS time (BootNotificationResponse.currentTime, Heartbeat)."""

    def __init__(self, base: Clock) -> None:
        self.base = base
        self.offset = 0.0

    def synchronise(self, csms_time: str) -> None:
        self.offset = parse_iso(csms_time) - self.base.time()

    def time(self) -> float:
        return self.base.time() + self.offset

    async def sleep(self, seconds: float) -> None:
        await self.base.sleep(seconds)


async def sleep_or_wake(clock: Clock, seconds: float, wake: asyncio.Event) -> None:
    """Wait ``seconds`` on ``clock``, or less if ``wake`` is set meanwhile (a timer loop that new
    input must interrupt: transaction ticks, charging-limit enforcement)."""
    sleeper = asyncio.ensure_future(clock.sleep(seconds))
    waker = asyncio.ensure_future(wake.wait())
    try:
        await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()
        waker.cancel()


def iso(ts: float) -> str:
    """RFC 3339 UTC timestamp with milliseconds, as OCPP 2.0.1 messages carry it."""
    dt = datetime.fromtimestamp(ts, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> float:
    """Parse an RFC 3339 timestamp (``Z`` or an offset; naive means UTC) into epoch seconds."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()
