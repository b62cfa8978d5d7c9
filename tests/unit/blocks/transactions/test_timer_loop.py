"""The transactions block's timer loop runs only while an engine has a deadline: a station (and
each of a fleet's thousands) starts without it, an input that brings a deadline starts it, and
with no deadline left it ends.  A real station (sim HAL, real store) whose CSMS is unreachable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support import eventually, offline_station

from hal.types import PlugChanged
from ocpp_station import Station

SEED = {
    "TxCtrlr.TxBeforeAcceptedEnabled": True,  # (the CSMS never answers here)
    "TxCtrlr.TxStartPoint": "EVConnected",
    "SampledDataCtrlr.TxUpdatedInterval": 60,
}


@pytest.fixture
async def station(tmp_path: Path) -> AsyncIterator[Station]:
    async with offline_station(tmp_path / "data", SEED) as started:
        yield started


async def test_an_idle_station_starts_without_the_loop(station: Station) -> None:
    tx = station.blocks.transactions
    assert all(engine.next_deadline() is None for engine in tx.engines.values())
    assert not tx._tick.running


async def test_an_input_with_a_deadline_starts_the_loop(station: Station) -> None:
    tx = station.blocks.transactions
    await station.handle_hal_event(PlugChanged(1, 1, True))  # a transaction starts (EVConnected)
    assert tx.engines[1].active()
    assert tx.engines[1].next_deadline() is not None  # its next TxUpdatedInterval event
    assert tx._tick.running


async def test_with_no_deadline_the_loop_ends(station: Station) -> None:
    tx = station.blocks.transactions
    tx._tick.wake()  # (a settings change does this)
    assert tx._tick.running
    await eventually(lambda: not tx._tick.running)
