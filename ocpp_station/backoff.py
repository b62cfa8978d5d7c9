"""The reconnect back-off of OCPP 2.0.1 Part 4 section 5.3, pure (used by the transport)."""

from __future__ import annotations

import random


class BackOff:
    """Reconnect delays of Part 4 section 5.3 (OCPPCommCtrlr.RetryBackOff* variables).

    The n-th reconnect after a connection loss (``attempt`` 0 = first) waits
    ``wait_minimum * 2 ** min(attempt, repeat_times)`` plus a fresh random value in
    ``[0, random_range]``: the wait doubles after every failed attempt, ``repeat_times`` times,
    then stays there.
    """

    def __init__(
        self,
        wait_minimum: float,
        random_range: float,
        repeat_times: int,
        rng: random.Random | None = None,
    ) -> None:
        if wait_minimum < 0:
            raise ValueError(f"RetryBackOffWaitMinimum must be >= 0, got {wait_minimum}")
        if random_range < 0:
            raise ValueError(f"RetryBackOffRandomRange must be >= 0, got {random_range}")
        if repeat_times < 0:
            raise ValueError(f"RetryBackOffRepeatTimes must be >= 0, got {repeat_times}")
        self.wait_minimum = wait_minimum
        self.random_range = random_range
        self.repeat_times = repeat_times
        self._rng = rng or random.Random()

    def delay(self, attempt: int) -> float:
        if attempt < 0:
            raise ValueError(f"attempt must be >= 0, got {attempt}")
        doublings = min(attempt, self.repeat_times, 64)  # 2**64 s is forever; keeps it finite
        jitter = self._rng.uniform(0, self.random_range) if self.random_range else 0.0
        return float(self.wait_minimum * 2**doublings + jitter)
