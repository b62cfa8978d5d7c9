"""``Block.hal_input``: the station hears a HAL event through each block in turn; a block done
with it on return gives None (no coroutine made), else what the station awaits before the next
block.  A real station (sim HAL, real store) whose CSMS is unreachable."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support import offline_station

from hal.types import IdTokenPresented, MeterReading, PilotStateChanged, PlugChanged
from ocpp_station import Station
from ocpp_station.blocks.base import Block


@pytest.fixture
async def station(tmp_path: Path) -> AsyncIterator[Station]:
    async with offline_station(tmp_path / "data") as started:
        yield started


async def test_events_a_block_is_done_with_make_no_coroutine(station: Station) -> None:
    blocks = station.blocks
    pilot = PilotStateChanged(1, "A")  # type: ignore[arg-type]
    assert blocks.availability.hal_input(pilot) is None  # a pilot state changes no status
    assert blocks.transactions.hal_input(pilot) is None
    reading = MeterReading(1, 1234.0, 3680.0, (16.0, 0.0, 0.0), (230.0, 230.0, 230.0))
    monitoring: Block = blocks.monitoring  # (its hal_input is typed as returning nothing)
    assert monitoring.hal_input(reading) is None
    assert float(station.dm.get("EVSE", "Power", evse=1) or 0) == 3680.0  # written on return


async def test_a_plug_is_awaited_in_availability_before_the_engine_hears_it(
    station: Station,
) -> None:
    blocks = station.blocks
    pending = blocks.availability.hal_input(PlugChanged(1, 1, True))
    assert inspect.isawaitable(pending)
    assert station.dm.get("Connector", "AvailabilityState", evse=1, connector=1) == "Available"
    await pending
    assert station.dm.get("Connector", "AvailabilityState", evse=1, connector=1) == "Occupied"


async def test_a_token_is_awaited_and_the_station_hears_every_block(station: Station) -> None:
    token = IdTokenPresented(1, "TOKEN-1")
    pending = station.blocks.transactions.hal_input(token)
    assert inspect.isawaitable(pending)
    await pending  # (offline, no CSMS: the authorization's own rules decide; nothing raises)
    await station.handle_hal_event(PlugChanged(1, 1, True))  # availability, transactions, …
    assert station.dm.get("Connector", "AvailabilityState", evse=1, connector=1) == "Occupied"
    assert station.blocks.transactions.engines[1].connector == 1


async def test_a_block_that_fails_on_an_event_keeps_no_other_from_it(
    station: Station, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A block raising on an event, or failing while it is awaited, is logged; the blocks
    after it still hear the event, in order."""
    blocks = station.blocks

    def broken(event: object) -> None:
        raise RuntimeError("broken block")

    async def failing() -> None:
        raise RuntimeError("failing block")

    reading = MeterReading(1, 1234.0, 3680.0, (16.0, 0.0, 0.0), (230.0, 230.0, 230.0))
    monkeypatch.setattr(blocks.availability, "hal_input", broken)
    await station.handle_hal_event(reading)
    assert float(station.dm.get("EVSE", "Power", evse=1) or 0) == 3680.0  # monitoring heard it
    monkeypatch.setattr(blocks.transactions, "hal_input", lambda event: failing())
    await station.handle_hal_event(dataclasses.replace(reading, power_w=1840.0))
    assert float(station.dm.get("EVSE", "Power", evse=1) or 0) == 1840.0
    assert "broken block" in caplog.text and "failing block" in caplog.text
