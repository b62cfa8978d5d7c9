"""Which configuration slot the next connection attempt uses (B10.FR.03/04/07, A05.FR.05), pure.

A *round* walks the slots of ``NetworkConfigurationPriority`` in order, making
``NetworkProfileConnectionAttempts`` attempts on each before the next (B10.FR.03).  A round
starts at start-up (B10.FR.04, A05.FR.05: the first entry first) and after a lost connection
(B10.FR.03 as the 2025-06 errata words it).  When every slot of the round failed, the station
falls back to the slot of its last successful connection (B10.FR.07) for as many attempts, then
starts a new round.  The slots of a round and the number of attempts are read through the
injected callables when they are needed, so a new priority applies from the next round.
"""

from __future__ import annotations

from collections.abc import Callable


class SlotSelector:
    """``plan()``: the usable slots in priority order; ``attempts()``: the attempts per slot;
    ``last_good``: the slot of the last successful connection (kept by the caller across
    restarts)."""

    def __init__(
        self,
        plan: Callable[[], list[int]],
        attempts: Callable[[], int],
        last_good: int | None = None,
    ) -> None:
        self._plan = plan
        self._attempts = attempts
        self.last_good = last_good
        self.order: list[int] = []
        self.index = 0
        self.failures = 0
        self.falling_back = False
        self.connected_slot: int | None = None  # the slot of the last connection of this run
        self._fresh = True  # the next choice starts a round

    def choose(self) -> int | None:
        """The slot of the next attempt; None when no slot is usable."""
        if self._fresh:
            self._new_round()
        if self.falling_back:
            return self.last_good
        if not self.order:
            return None
        return self.order[self.index]

    def failed(self) -> None:
        """The attempt on the chosen slot failed (B10.FR.03 counts it)."""
        self.failures += 1
        if self.failures < max(1, self._attempts()):
            return
        self.failures = 0
        if self.falling_back:
            self._fresh = True  # the fallback had its attempts too: from the top again
            return
        self.index += 1
        if self.index < len(self.order):
            return
        if self.last_good is not None and self.last_good in self._plan():
            self.falling_back = True  # B10.FR.07
        else:
            self._fresh = True

    def succeeded(self, slot: int) -> bool:
        """A connection on ``slot`` is open.  True when it is another slot than the connection
        before it in this run: a different CSMS may be at the other end (B10.FR.10)."""
        switched = self.connected_slot is not None and self.connected_slot != slot
        self.connected_slot = slot
        self.last_good = slot
        self.failures = 0
        self._fresh = True  # the next choice comes after this connection is lost: a new round
        return switched

    def _new_round(self) -> None:
        self._fresh = False
        self.order = list(self._plan())
        self.index = 0
        self.failures = 0
        self.falling_back = False
