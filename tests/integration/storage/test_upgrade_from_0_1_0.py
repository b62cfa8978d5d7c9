"""Upgrade from release 0.1.0: a station started on the data directory 0.1.0 wrote carries on
where that one stopped, as the CSMS sees it.

The fixture (``tests/fixtures/data_dir_0_1_0``, see its README and MANIFEST) is station ``OLD001``
with two EVSEs, stopped mid-transaction with four TransactionEvents queued, EVSE 2 Inoperative,
charging profile 7 installed, HeartbeatInterval set to 123 by the CSMS and ``OLDTOKEN01`` Accepted
in the authorization cache.  Everything is checked through the CSMS, the simulated controller and
the station's public API; only the file names in the data directory are looked at directly.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from support import FIXTURES, installed_profiles, sim, station_config, transaction, variable

from ocpp_station import OffsetClock, Station, SystemClock
from ocpp_station import csms as csms_module
from ocpp_station.clock import iso, parse_iso
from ocpp_station.csms import LocalCSMS

FIXTURE = FIXTURES / "data_dir_0_1_0"
MANIFEST: dict[str, Any] = json.loads((FIXTURE / "MANIFEST.json").read_text())
OLD_FILES = ("device_model.db", "queue.db", "profiles.db")
STATION = MANIFEST["station_id"]
TWO_EVSES = [{"id": 1, "connectors": [1]}, {"id": 2, "connectors": [1]}]
# The 0.1.0 station stopped right after its last queued TransactionEvent (stamped
# 2026-12-01T11:58:18.633Z).  The upgraded station and the CSMS run a minute later, as a real
# upgrade would: the cache entry of OLDTOKEN01 lives a day (AuthCacheCtrlr.LifeTime) from then,
# so on the wall clock this test would stop proving anything about it the day after.
RESTARTED_AT = parse_iso("2026-12-01T11:59:20Z")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> OffsetClock:
    """Wall-clock time moved back to just after the 0.1.0 station stopped, for the station and
    for the CSMS's ``currentTime`` (which the station's clock follows, B01/G02)."""
    moved = OffsetClock(SystemClock())
    moved.offset = RESTARTED_AT - moved.time()
    monkeypatch.setattr(csms_module, "_now_iso", lambda: iso(moved.time()))
    return moved


@pytest.fixture
def data_dir(short_tmp: Path) -> Path:
    target = short_tmp / "data"
    target.mkdir()
    for name in OLD_FILES:
        shutil.copy(FIXTURE / name, target / name)
    return target


@pytest.fixture
async def upgraded(csms: LocalCSMS, data_dir: Path, clock: OffsetClock) -> AsyncIterator[Station]:
    # B01.FR.04 makes a BootNotificationResponse's interval the HeartbeatInterval; this CSMS
    # sends none (0), so the interval the 0.1.0 station was given stays observable.
    csms.policy.boot = [("Accepted", 0)]
    station = Station(
        station_config(csms.url, data_dir, station_id=STATION, evses=TWO_EVSES), clock=clock
    )
    await station.start()
    try:
        yield station
    finally:
        await station.stop()


def file_names(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}


def tx_events(csms: LocalCSMS) -> list[dict[str, Any]]:
    return csms.received("TransactionEvent", STATION)


async def test_queued_transaction_events_then_power_loss_end(
    csms: LocalCSMS, upgraded: Station
) -> None:
    queued = MANIFEST["queued_messages"]
    events = await csms.wait_received("TransactionEvent", count=queued + 1, station=STATION)
    first_seq = MANIFEST["last_seq_no_delivered"] + 1
    # The queued events arrive first, in order, continuing the transaction's seqNo ...
    assert [e["seqNo"] for e in events] == list(range(first_seq, first_seq + queued + 1))
    assert {e["transactionInfo"]["transactionId"] for e in events} == {MANIFEST["transaction_id"]}
    assert [e["eventType"] for e in events[:queued]] == ["Updated"] * queued
    # ... then the interrupted transaction ends, without a gap in seqNo.
    ended = events[queued]
    assert ended["eventType"] == "Ended"
    assert ended["transactionInfo"]["stoppedReason"] == "PowerLoss"
    assert upgraded.status()["evses"][0]["transaction"] is None
    await csms.wait_for(lambda: upgraded.status()["queued_messages"] == 0)
    assert len(tx_events(csms)) == queued + 1  # each delivered once


async def test_availability_profiles_and_variables_carry_over(
    csms: LocalCSMS, upgraded: Station
) -> None:
    inoperative = MANIFEST["inoperative_evse"]
    statuses = await csms.wait_received("StatusNotification", count=2, station=STATION)
    reported = {(s["evseId"], s["connectorId"]): s["connectorStatus"] for s in statuses}
    assert reported == {(1, 1): "Available", (inoperative, 1): "Unavailable"}
    assert upgraded.status()["evses"][inoperative - 1]["operational_status"] == "Inoperative"
    # The charging profile is installed and enforced: a 16 A station maximum over two EVSEs.
    assert await installed_profiles(csms, STATION, request_id=1) == [MANIFEST["profile_id"]]
    await csms.wait_for(lambda: upgraded.status()["evses"][0].get("limit_amps") == 8.0)
    # The CSMS's earlier SetVariables stays.
    interval = await variable(csms, STATION, "OCPPCommCtrlr", "HeartbeatInterval")
    assert interval == str(MANIFEST["heartbeat_interval"])


async def test_authorization_cache_still_decides(csms: LocalCSMS, upgraded: Station) -> None:
    """Offline (LocalAuthorizeOffline), the cached OLDTOKEN01 starts a transaction while an
    unknown token does not (OfflineTxForUnknownIdEnabled is false)."""
    await csms.wait_received("TransactionEvent", count=MANIFEST["queued_messages"] + 1)
    await csms.wait_for(lambda: upgraded.status()["queued_messages"] == 0)
    before = len(tx_events(csms))
    await csms.stop()
    await csms.wait_for(lambda: not upgraded.connected)
    sim(upgraded).plug_in(1, 1)
    sim(upgraded).present_id_token(1, "STRANGER", "ISO14443")
    sim(upgraded).present_id_token(1, "OLDTOKEN01", "ISO14443")
    await csms.wait_for(lambda: transaction(upgraded) is not None)
    await csms.start()  # back on the same port
    events = await csms.wait_received("TransactionEvent", count=before + 1, station=STATION)
    started = events[before]
    assert started["eventType"] == "Started"
    assert started["idToken"] == {"idToken": "OLDTOKEN01", "type": "ISO14443"}
    assert started["offline"] is True
    assert started["transactionInfo"]["transactionId"] != MANIFEST["transaction_id"]
    assert csms.received("Authorize", STATION) == []


async def test_the_old_files_are_set_aside(upgraded: Station, data_dir: Path) -> None:
    names = file_names(data_dir)
    assert "station.db" in names
    for name in OLD_FILES:
        assert name not in names
        assert f"{name}.migrated" in names
