"""The enforcement sends the start's limits to the HAL during the block's start and runs its
loop only while a limit changes with time or a TxProfile waits: a station without profiles
(most of a fleet) has no such task.  A real station (sim HAL, real store), CSMS unreachable."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support import station_config

from ocpp_station import Station


@pytest.fixture
async def station(tmp_path: Path) -> AsyncIterator[Station]:
    started = Station(station_config("ws://127.0.0.1:9/ocpp", tmp_path / "data"))
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


async def test_the_start_sets_the_limits_without_a_loop(station: Station) -> None:
    enforcement = station.blocks.smart_charging.enforcement
    assert enforcement.limits == {1: (32.0, 3)}  # the EVSE's maximum: no profile limits it
    assert station.hal.status()["evses"][0]["limit_a"] == 32.0
    assert not enforcement._looper.running


async def test_a_wake_looks_again_and_the_loop_ends_with_nothing_timed(station: Station) -> None:
    enforcement = station.blocks.smart_charging.enforcement
    enforcement.wake()  # (a profile, a transaction or a setting changed)
    assert enforcement._looper.running
    for _ in range(20):
        await asyncio.sleep(0.01)
        if not enforcement._looper.running:
            break
    assert not enforcement._looper.running
