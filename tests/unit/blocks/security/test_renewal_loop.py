"""The certificate renewal's loop runs only while there is something to watch (a renewal under
way, or a station certificate whose expiry starts one, A03): a station without a certificate of
its own (most of a fleet) starts, connects and goes online without it.  A real station (sim HAL,
real store) whose CSMS is unreachable; the A02/A03 renewals themselves are integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support import offline_station

from ocpp_station import Station


@pytest.fixture
async def station(tmp_path: Path) -> AsyncIterator[Station]:
    async with offline_station(tmp_path / "data") as started:
        yield started


async def test_no_certificate_and_no_renewal_no_loop(station: Station) -> None:
    renewal = station.blocks.renewal
    assert renewal.station_certificate() is None
    assert not renewal._watching(renewal._next_wake())
    assert not renewal._looper.running
    await renewal.connected()
    await renewal.online(True)
    assert not renewal._looper.running


async def test_a_renewal_under_way_is_watched(station: Station) -> None:
    renewal = station.blocks.renewal
    renewal._state.start("-----BEGIN CERTIFICATE REQUEST-----", "A02")  # a CSR made, not sent
    assert renewal._watching(renewal._next_wake())
    await renewal.online(True)
    assert renewal._looper.running
