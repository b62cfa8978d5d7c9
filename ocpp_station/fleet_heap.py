"""A fleet's long-lived objects kept out of the way of Python's garbage collector.

A station is thousands of Python objects that live as long as the fleet. CPython's full (oldest
generation) collection walks every container object of the process: at 3,000 stations one took
1.1-1.5 s, and at 10,000 several seconds, with the event loop stopped meanwhile (measured with
``gc.callbacks`` in the fleet benchmark) — every heartbeat and meter value of every station is that
late. :class:`HeapFreezer` moves the objects of the stations started so far into the permanent
generation (``gc.freeze()``) every ``every`` started stations and once the boot storm is over, so
collections only walk what is new. During the storm, which allocates about 2,000 container
objects per station (100,000 between two freezes), the youngest generation is collected only
after :data:`STORM_GEN0` allocations instead of CPython's 700 (``gc.freeze()`` resets that count):
in a healthy storm no collection runs at all. Such collections found nothing to free: in a
2,000-station storm CPython's collections freed 826 objects in all, and walked some 4 million
for it (0.26 ms of the loop's CPU per station, 5-8 % of a start). A storm that starts few stations
(a CSMS that refuses them) still has its young objects collected every STORM_GEN0 allocations.
Once the storm is over, the young and middle generations are collected as CPython does, and a
full collection is considered only after :data:`STEADY_GEN2` middle ones instead of 10: at
10,000 stations some 600,000 objects made after the storm (the sleeping loops' futures, timer
handles and coroutines, made again at each wake-up) reach the oldest generation, and each full
collection of them stopped the fleet for 0.5-0.9 s, twice in a 75 s window.
Objects are still freed by reference counting; only cycles among frozen objects wait until
:meth:`release` (``gc.unfreeze()``), which the fleet calls once its stations are stopped.  It acts
on the whole process: a program that embeds a :class:`~ocpp_station.fleet.Fleet` has its own
objects of that moment frozen too.
"""

from __future__ import annotations

import gc

FREEZE_EVERY = 50  # started stations between two freezes during a boot storm
STORM_GEN0 = 200_000  # allocations between two young collections during a boot storm (see above)
STEADY_GEN2 = 100  # middle collections before a full one is considered, after the storm


class HeapFreezer:
    def __init__(self, every: int = FREEZE_EVERY) -> None:
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.every = every
        self.started = 0
        self.frozen = False
        self._thresholds: tuple[int, int, int] | None = None  # the process's, until release()
        self._storming = False

    def _original(self) -> tuple[int, int, int]:
        if self._thresholds is None:
            self._thresholds = gc.get_threshold()
        return self._thresholds

    def station_started(self) -> None:
        if not self._storming:  # the storm's first: young collections far less often
            gen0, gen1, gen2 = self._original()
            gc.set_threshold(max(gen0, STORM_GEN0), gen1, gen2)
            self._storming = True
        self.started += 1
        if self.started % self.every == 0:
            self.freeze()

    def storm_over(self) -> None:
        """The boot storm ended: everything started is frozen; the young and middle collections
        are the process's again, full ones rarer (:data:`STEADY_GEN2`) until :meth:`release`."""
        self.freeze()
        gen0, gen1, gen2 = self._original()
        gc.set_threshold(gen0, gen1, max(gen2, STEADY_GEN2))
        self._storming = False

    def freeze(self) -> None:
        gc.freeze()
        self.frozen = True

    def release(self) -> None:
        """The fleet stopped: the process's thresholds back, nothing frozen any more."""
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None
        self._storming = False
        if self.frozen:
            gc.unfreeze()
            self.frozen = False
