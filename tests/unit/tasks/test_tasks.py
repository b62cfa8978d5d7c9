"""Supervised station tasks: one that dies is logged and restarted with back-off."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ocpp_station.clock import ManualClock
from ocpp_station.tasks import RESTART_MAX, TaskGroup, restart_delay


def test_back_off_doubles_up_to_a_minute() -> None:
    assert [restart_delay(n) for n in (1, 2, 3, 4, 7, 30)] == [1, 2, 4, 8, 60, 60]
    assert RESTART_MAX == 60


async def test_a_dying_loop_is_logged_and_restarted_with_back_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ManualClock()
    group = TaskGroup("CS", logging.getLogger("t.tasks"), clock)
    runs: list[float] = []
    healthy = asyncio.Event()

    async def loop() -> None:
        runs.append(clock.time())
        if len(runs) < 3:
            raise OverflowError("cannot convert float infinity to integer")
        healthy.set()
        await asyncio.Event().wait()  # runs until cancelled

    with caplog.at_level(logging.WARNING, "t.tasks"):
        task = group.spawn(loop(), "smart-charging", restart=loop)
        await asyncio.sleep(0)
        await clock.advance(1)  # first restart after 1 s
        await clock.advance(2)  # second after 2 s more
        await asyncio.wait_for(healthy.wait(), 1)
    assert [t - runs[0] for t in runs] == [0, 1, 3]
    assert group.restarts == {"smart-charging": 2}
    failures = [r for r in caplog.records if "failed; restarting" in r.getMessage()]
    assert len(failures) == 2 and failures[0].exc_info is not None
    assert not task.done()  # the same task object lives on: stop() still cancels it
    await group.cancel_all()
    assert task.cancelled() and not group.tasks


async def test_a_one_shot_task_that_fails_is_logged_not_restarted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    group = TaskGroup("CS", logging.getLogger("t.tasks"), ManualClock())

    async def once() -> None:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, "t.tasks"):
        task = group.spawn(once(), "publish")
        await task
    assert "station task publish failed" in caplog.text
    assert group.restarts == {}


async def test_a_normal_end_is_the_end() -> None:
    group = TaskGroup("CS", logging.getLogger("t.tasks"), ManualClock())
    calls: list[int] = []

    async def done() -> int:
        calls.append(1)
        return 7

    assert await group.spawn(done(), "transport", restart=done) == 7
    assert calls == [1]
