"""A fleet's long-lived objects kept out of the way of Python's garbage collector.

A station is thousands of Python objects that live as long as the fleet.  CPython's full (oldest
generation) collection walks every container object of the process: at 3,000 stations one took
1.1-1.5 s, and at 10,000 several seconds, with the event loop stopped meanwhile (measured with
``gc.callbacks`` in the fleet benchmark) — every heartbeat and meter value of every station is
that late.  :class:`HeapFreezer` moves the objects of the stations started so far into the
permanent generation (``gc.freeze()``) every ``every`` started stations and once the boot storm
is over, so collections only walk what is new.  Objects are still freed by reference counting;
only cycles among frozen objects wait until :meth:`release` (``gc.unfreeze()``), which the fleet
calls once its stations are stopped.  It acts on the whole process: a program that embeds a
:class:`~ocpp_station.fleet.Fleet` has its own objects of that moment frozen too.
"""

from __future__ import annotations

import gc

FREEZE_EVERY = 50  # started stations between two freezes during a boot storm


class HeapFreezer:
    def __init__(self, every: int = FREEZE_EVERY) -> None:
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.every = every
        self.started = 0
        self.frozen = False

    def station_started(self) -> None:
        self.started += 1
        if self.started % self.every == 0:
            self.freeze()

    def freeze(self) -> None:
        gc.freeze()
        self.frozen = True

    def release(self) -> None:
        if self.frozen:
            gc.unfreeze()
            self.frozen = False
