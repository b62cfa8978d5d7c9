"""``OnDemand``: a station loop that starts at its first wake-up, not with the station."""

from __future__ import annotations

import asyncio
import logging

from ocpp_station.clock import ManualClock, Wake, sleep_or_wake
from ocpp_station.tasks import OnDemand, TaskGroup


async def test_started_by_the_first_wake_then_woken_then_stopped_for_good() -> None:
    clock = ManualClock()
    group = TaskGroup("CS", logging.getLogger("t.on_demand"), clock)
    wake = Wake()
    rounds: list[float] = []

    async def loop() -> None:
        while True:
            rounds.append(clock.time())
            wake.clear()
            await sleep_or_wake(clock, 3600, wake)

    on_demand = OnDemand(group.spawn, loop, "windows", wake)
    await asyncio.sleep(0)
    assert not on_demand.running and group.tasks == set() and rounds == []
    on_demand.wake()
    await asyncio.sleep(0)
    assert on_demand.running and len(rounds) == 1
    on_demand.wake()  # running: the same task, woken
    for _ in range(3):
        await asyncio.sleep(0)
    assert len(rounds) == 2 and len(group.tasks) == 1
    on_demand.stop()
    await asyncio.sleep(0)
    assert not on_demand.running
    on_demand.wake()  # stopped: never again
    await asyncio.sleep(0)
    assert not on_demand.running and len(rounds) == 2


async def test_a_loop_that_ended_starts_again_at_the_next_wake() -> None:
    clock = ManualClock()
    group = TaskGroup("CS", logging.getLogger("t.on_demand"), clock)
    runs: list[int] = []

    async def until_done() -> None:  # (the storage probe: it returns once the store writes)
        runs.append(len(runs))

    on_demand = OnDemand(group.spawn, until_done, "storage")
    on_demand.wake()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert runs == [0] and not on_demand.running
    on_demand.wake()
    await asyncio.sleep(0)
    assert runs == [0, 1]
