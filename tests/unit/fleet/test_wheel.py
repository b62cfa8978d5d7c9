"""The fleet's shared timer wheel (ocpp_station/wheel.py): sleeps and periodic jobs on real time.

The resolution is a few milliseconds here so the tests stay short; every wait on a result has a
generous timeout (the machine may be loaded), and the assertions are on order and on "never
early", not on how late a wake-up is.
"""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from hal.backends.sim import SimBackend
from ocpp_station.wheel import WheelClock

RES = 0.01


async def test_a_sleep_never_ends_early_and_sleeps_end_in_deadline_order() -> None:
    clock = WheelClock(RES)
    done: list[float] = []

    async def nap(seconds: float) -> None:
        t0 = time.monotonic()
        await clock.sleep(seconds)
        assert time.monotonic() - t0 >= seconds - 1e-3  # never early
        done.append(seconds)

    await asyncio.wait_for(asyncio.gather(nap(0.12), nap(0.03), nap(0.07), nap(0.0)), 10)
    assert done == [0.0, 0.03, 0.07, 0.12]
    assert clock.pending() == 0


async def test_many_sleepers_share_one_asyncio_timer_per_slot() -> None:
    clock = WheelClock(0.5)
    loop = asyncio.get_running_loop()
    before = len(loop._scheduled)  # type: ignore[attr-defined]  # the loop's timer heap
    sleepers = [asyncio.ensure_future(clock.sleep(0.2)) for _ in range(500)]
    await asyncio.sleep(0)
    assert clock.pending() == 500
    assert len(loop._scheduled) - before <= 2  # type: ignore[attr-defined]
    await asyncio.wait_for(asyncio.gather(*sleepers), 10)


async def test_a_cancelled_sleep_is_skipped_and_the_others_still_wake() -> None:
    clock = WheelClock(RES)
    cancelled = asyncio.ensure_future(clock.sleep(0.05))
    kept = asyncio.ensure_future(clock.sleep(0.05))
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.wait_for(kept, 10)
    assert cancelled.cancelled()


async def test_a_periodic_job_runs_every_period_until_stopped() -> None:
    clock = WheelClock(RES)
    runs: list[float] = []
    enough = asyncio.Event()
    t0 = time.monotonic()

    def job() -> None:
        runs.append(time.monotonic() - t0)
        if len(runs) == 3:
            enough.set()

    stop = clock.every(0.05, job)
    await asyncio.wait_for(enough.wait(), 10)
    stop()
    count = len(runs)
    assert runs[0] >= 0.05 - 1e-3  # the first run one period after registering
    assert all(b - a > 0 for a, b in itertools.pairwise(runs))
    await clock.sleep(0.15)
    assert len(runs) == count  # stopped: no further run
    assert clock.pending() == 0


async def test_a_failing_job_is_reported_and_keeps_running() -> None:
    clock = WheelClock(RES)
    loop = asyncio.get_running_loop()
    reported: list[BaseException] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context["exception"]))
    runs = 0
    twice = asyncio.Event()

    def job() -> None:
        nonlocal runs
        runs += 1
        if runs == 2:
            twice.set()
        raise RuntimeError("boom")

    stop = clock.every(0.02, job)
    try:
        await asyncio.wait_for(twice.wait(), 10)
    finally:
        stop()
        loop.set_exception_handler(None)
    assert [str(exc) for exc in reported[:2]] == ["boom", "boom"]


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf")])
async def test_bad_resolution_or_period_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="positive number of seconds"):
        WheelClock(bad)
    with pytest.raises(ValueError, match="positive number of seconds"):
        WheelClock().every(bad, lambda: None)


async def test_the_sim_hal_ticks_on_the_wheel_without_a_task_of_its_own() -> None:
    clock = WheelClock(RES)
    sim = SimBackend({1: [1]}, clock=clock, tick=0.02, meter_interval=0.02)
    tasks_before = len(asyncio.all_tasks())
    await sim.open()
    assert clock.pending() == 0  # idle: nothing to tick
    sim.plug_in(1)
    await sim.enable(1, True)
    await sim.allow_power(1, True)  # power flows: the model moves on by itself
    assert len(asyncio.all_tasks()) == tasks_before  # the wheel ticks it, no task per backend
    assert clock.pending() == 1
    opened_at = sim.model.now

    moved = asyncio.Event()

    def watch() -> None:
        if sim.model.now >= opened_at + 0.06:
            moved.set()

    stop_watch = clock.every(0.01, watch)
    await asyncio.wait_for(moved.wait(), 10)  # the wheel's ticks move the model on
    stop_watch()
    await sim.close()
    await asyncio.sleep(0.05)
    assert clock.pending() == 0  # closing stopped its job
