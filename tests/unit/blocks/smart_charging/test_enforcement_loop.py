"""The enforcement sends the start's limits to the HAL during the block's start and runs its
loop only while a limit changes with time or a TxProfile waits: a station without profiles
(most of a fleet) has no such task.  A real station (sim HAL, real store), CSMS unreachable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support import eventually, offline_station

from ocpp_station import Station


@pytest.fixture
async def station(tmp_path: Path) -> AsyncIterator[Station]:
    async with offline_station(tmp_path / "data") as started:
        yield started


async def test_the_start_sets_the_limits_without_a_loop(station: Station) -> None:
    enforcement = station.blocks.smart_charging.enforcement
    assert enforcement.limits == {1: (32.0, 3)}  # the EVSE's maximum: no profile limits it
    assert station.hal.status()["evses"][0]["limit_a"] == 32.0
    assert not enforcement._looper.running


async def test_a_wake_looks_again_and_the_loop_ends_with_nothing_timed(station: Station) -> None:
    enforcement = station.blocks.smart_charging.enforcement
    enforcement.wake()  # (a profile, a transaction or a setting changed)
    assert enforcement._looper.running
    await eventually(lambda: not enforcement._looper.running)
