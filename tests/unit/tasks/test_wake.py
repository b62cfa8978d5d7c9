"""sleep_or_wake on a Wake (ocpp_station/clock.py): the timer loops' sleep, cut short by new input,
with no task of its own; a cancellation from outside still ends the sleeping task."""

from __future__ import annotations

import asyncio

import pytest

from ocpp_station.clock import ManualClock, Wake, sleep_or_wake


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_the_sleep_ends_at_its_time_when_nobody_wakes_it() -> None:
    clock = ManualClock()
    wake = Wake()
    sleeper = asyncio.ensure_future(sleep_or_wake(clock, 10, wake))
    await settle()
    await clock.advance(9)
    assert not sleeper.done()
    await clock.advance(1)
    assert sleeper.done() and sleeper.result() is None


async def test_set_ends_the_sleep_at_once_and_stays_set_until_cleared() -> None:
    clock = ManualClock()
    wake = Wake()
    tasks_before = len(asyncio.all_tasks())
    sleeper = asyncio.ensure_future(sleep_or_wake(clock, 3600, wake))
    await settle()
    assert len(asyncio.all_tasks()) == tasks_before + 1  # only the caller's own task
    wake.set()
    wake.set()  # twice: still one wake-up
    await settle()
    assert sleeper.done() and not sleeper.cancelled()
    assert wake.is_set()
    # Still set: the next sleep returns at once (a wake before the sleep is not lost).
    await asyncio.wait_for(sleep_or_wake(clock, 3600, wake), 5)
    wake.clear()
    assert not wake.is_set()
    again = asyncio.ensure_future(sleep_or_wake(clock, 5, wake))
    await settle()
    assert not again.done()
    await clock.advance(5)
    assert again.done()


async def test_a_timer_loop_goes_on_after_each_wake_up() -> None:
    clock = ManualClock()
    wake = Wake()
    rounds = 0

    async def loop() -> None:
        nonlocal rounds
        while True:
            rounds += 1
            wake.clear()
            await sleep_or_wake(clock, 100, wake)

    task = asyncio.ensure_future(loop())
    await settle()
    for expected in (2, 3, 4):
        wake.set()
        await settle()
        assert rounds == expected
    await clock.advance(100)
    assert rounds == 5
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_cancellation_from_outside_still_cancels_with_a_wake_at_the_same_time() -> None:
    clock = ManualClock()
    wake = Wake()
    sleeper = asyncio.ensure_future(sleep_or_wake(clock, 3600, wake))
    await settle()
    sleeper.cancel()
    wake.set()
    with pytest.raises(asyncio.CancelledError):
        await sleeper
    # Nobody is left sleeping on the Wake: another task may sleep on it now.
    wake.clear()
    other = asyncio.ensure_future(sleep_or_wake(clock, 1, wake))
    await settle()
    await clock.advance(1)
    assert other.done() and other.result() is None


async def test_two_tasks_sleeping_on_one_wake_is_an_error() -> None:
    clock = ManualClock()
    wake = Wake()
    first = asyncio.ensure_future(sleep_or_wake(clock, 10, wake))
    await settle()
    with pytest.raises(RuntimeError, match="one task at a time"):
        await sleep_or_wake(clock, 10, wake)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_an_asyncio_event_still_works_as_before() -> None:
    clock = ManualClock()
    event = asyncio.Event()
    sleeper = asyncio.ensure_future(sleep_or_wake(clock, 3600, event))
    await settle()
    event.set()
    await asyncio.wait_for(sleeper, 5)
