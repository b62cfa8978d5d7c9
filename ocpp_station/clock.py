"""Injected time.

Every timer in the station (heartbeats, back-off, retries, meter sampling, charging-schedule period
boundaries, the simulated EV) reads time through a :class:`Clock`, so tests drive time by hand
instead of sleeping.  ``time()`` is UTC epoch seconds; ``sleep`` waits on that same clock.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time as _time
from datetime import UTC, datetime
from typing import Any, Protocol


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


class Wake:
    """The wake-up signal of a timer loop (:func:`sleep_or_wake`): ``set()`` ends the loop's
    current sleep early; it stays set until ``clear()``, as an ``asyncio.Event`` does.

    Cheaper than an ``asyncio.Event`` for this one use: no waiter deque, and the sleep it cuts
    short needs no task of its own (a fleet holds six of these per station)."""

    __slots__ = ("_flag", "_sleeper", "_woken")

    def __init__(self) -> None:
        self._flag = False
        self._sleeper: asyncio.Task[Any] | None = None  # the task in sleep_or_wake, if any
        self._woken = False

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        self._flag = True
        sleeper = self._sleeper
        if sleeper is not None and not self._woken:
            self._woken = True
            sleeper.cancel()  # sleep_or_wake tells this from a cancellation from outside

    def clear(self) -> None:
        self._flag = False


async def sleep_or_wake(clock: Clock, seconds: float, wake: Wake | asyncio.Event) -> None:
    """Wait ``seconds`` on ``clock``, or less if ``wake`` is set meanwhile (a timer loop that new
    input must interrupt: transaction ticks, charging-limit enforcement)."""
    if isinstance(wake, Wake):
        await _sleep_or_wake(clock, seconds, wake)
        return
    sleeper = asyncio.ensure_future(clock.sleep(seconds))
    waker = asyncio.ensure_future(wake.wait())
    try:
        await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()
        waker.cancel()


async def _sleep_or_wake(clock: Clock, seconds: float, wake: Wake) -> None:
    # The sleep runs in the caller's own task; ``wake.set()`` cancels that task, and the
    # cancellation is taken back here (Task.uncancel, as asyncio.timeout does): a cancellation
    # from outside (the station stopping) still ends the task.
    if wake._flag:
        return
    task = asyncio.current_task()
    if task is None or wake._sleeper is not None:
        raise RuntimeError("sleep_or_wake: one task at a time may sleep on a Wake")
    wake._sleeper = task
    wake._woken = False
    try:
        await clock.sleep(seconds)
    except asyncio.CancelledError:
        if wake._woken and task.uncancel() == 0:
            return
        raise
    finally:
        wake._sleeper = None
        wake._woken = False


_ISO_SECOND: list[Any] = [None, ""]  # the last whole second formatted, and its text


def iso(ts: float) -> str:
    """RFC 3339 UTC timestamp with milliseconds, as OCPP 2.0.1 messages carry it.

    The same text as ``datetime.fromtimestamp(ts, UTC)`` formatted (its rounding to the
    microsecond included); the date and time of day are formatted once per second (a fleet
    stamps thousands of messages within one)."""
    frac, whole = math.modf(ts)
    micro = round(frac * 1e6)  # half to even, as datetime.fromtimestamp rounds
    if micro >= 1_000_000:
        whole, micro = whole + 1.0, micro - 1_000_000
    elif micro < 0:
        whole, micro = whole - 1.0, micro + 1_000_000
    cached = _ISO_SECOND
    if cached[0] != whole:
        text = datetime.fromtimestamp(whole, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        cached[0], cached[1] = whole, text
    return f"{cached[1]}{micro // 1000:03d}Z"


def parse_iso(text: str) -> float:
    """Parse an RFC 3339 timestamp (``Z`` or an offset; naive means UTC) into epoch seconds."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()
