"""One timer wheel for the timers of many stations in one process (a fleet).

Every station of a fleet sleeps on its clock: heartbeats, transaction ticks, retries, and the sim
HAL advances its model every ``tick`` seconds.  On :class:`~ocpp_station.clock.SystemClock` each
of those sleeps is an asyncio timer of its own: at 10,000 stations the loop's timer heap holds
about 150,000 handles and every push and pop compares a dozen of them in Python.

:class:`WheelClock` is a ``SystemClock`` (the same ``time()``) whose sleeps are put in slots of
``resolution`` seconds (50 ms by default).  Each occupied slot costs ONE asyncio timer, however
many sleepers it holds; a sleep ends at the end of its slot, so at most ``resolution`` late,
never early.  :meth:`WheelClock.every` runs a plain callback periodically from the same wheel,
without a task per job: the sim HAL's tick uses it (``hal.backends.sim``) when its clock offers
it.  A job's first run is one period after it was registered, so jobs registered over a boot storm
are spread over the slots and a slot never runs the whole fleet's ticks at once.

Only a fleet uses it (:class:`ocpp_station.fleet.Fleet` gives one to all of its stations): what a
single station does, and when, is unchanged up to the resolution.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time as _time
from collections.abc import Callable

LOG = logging.getLogger("ocpp_station.wheel")

DEFAULT_RESOLUTION = 0.05  # seconds per slot


class _Job:
    """A periodic callback on the wheel (see :meth:`WheelClock.every`)."""

    __slots__ = ("active", "callback", "period")

    def __init__(self, callback: Callable[[], None], period: int) -> None:
        self.callback = callback
        self.period = period  # in slots
        self.active = True


_Entry = asyncio.Future[None] | _Job


class WheelClock:
    """Wall-clock time (as ``SystemClock``) with sleeps and periodic jobs on a shared wheel."""

    def __init__(self, resolution: float = DEFAULT_RESOLUTION) -> None:
        if not (math.isfinite(resolution) and resolution > 0):
            raise ValueError(f"resolution must be a positive number of seconds, got {resolution}")
        self.resolution = float(resolution)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: dict[int, list[_Entry]] = {}

    def time(self) -> float:
        return _time.time()

    async def sleep(self, seconds: float) -> None:
        if not seconds > 0:
            await asyncio.sleep(0)
            return
        loop = self._bind()
        fut: asyncio.Future[None] = loop.create_future()
        self._add(math.ceil((loop.time() + seconds) / self.resolution), fut)
        await fut  # a cancelled sleep leaves a done future behind: its slot skips it

    def every(self, period: float, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` every ``period`` seconds (rounded to whole slots, at least one),
        the first time one period from now; returns the function that stops it.  An exception
        of the callback is reported to the loop's exception handler and the job goes on."""
        if not (math.isfinite(period) and period > 0):
            raise ValueError(f"period must be a positive number of seconds, got {period}")
        loop = self._bind()
        job = _Job(callback, max(1, round(period / self.resolution)))
        self._add(math.ceil(loop.time() / self.resolution) + job.period, job)

        def stop() -> None:
            job.active = False

        return stop

    def pending(self) -> int:
        """Entries waiting on the wheel (sleeps and jobs; for tests and measurements)."""
        return sum(len(entries) for entries in self._slots.values())

    # -- internals ---------------------------------------------------------------------------
    def _bind(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop (tests): the old one's slots are gone with it
            self._loop = loop
            self._slots = {}
        return loop

    def _add(self, slot: int, entry: _Entry) -> None:
        entries = self._slots.get(slot)
        if entries is None:
            entries = self._slots[slot] = []
            assert self._loop is not None
            self._loop.call_at(slot * self.resolution, self._fire, slot)
        entries.append(entry)

    def _fire(self, slot: int) -> None:
        entries = self._slots.pop(slot, None)
        if not entries:
            return
        for entry in entries:
            if isinstance(entry, _Job):
                if not entry.active:
                    continue
                try:
                    entry.callback()
                except Exception as exc:
                    assert self._loop is not None
                    self._loop.call_exception_handler(
                        {"message": "periodic job on the timer wheel failed", "exception": exc}
                    )
                if entry.active:  # a loop that fell behind runs a job once, then on time
                    assert self._loop is not None
                    now = math.ceil(self._loop.time() / self.resolution)
                    self._add(max(slot + entry.period, now + 1), entry)
            elif not entry.done():
                entry.set_result(None)
