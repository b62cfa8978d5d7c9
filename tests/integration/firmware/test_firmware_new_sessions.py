"""ChargingStation.AllowNewSessionsPendingFirmwareUpdate (L01.FR.07) through the CSMS: while an
installation waits for a running transaction, true keeps the idle EVSEs open for new sessions
(false, the default, makes them Unavailable: ``test_firmware_update.py``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from filetransfer import FileServer
from support import StationFactory, sim

from ocpp_station.clock import iso
from ocpp_station.csms import LocalCSMS


@pytest.fixture
def http_server() -> Iterator[FileServer]:
    server = FileServer().start()
    yield server
    server.stop()


def started_on(csms: LocalCSMS, evse: int) -> list[dict[str, Any]]:
    return [
        e
        for e in csms.received("TransactionEvent")
        if e["eventType"] == "Started" and e.get("evse", {}).get("id") == evse
    ]


async def test_new_sessions_while_an_installation_waits_l01_fr_07(
    csms: LocalCSMS, make_station: StationFactory, http_server: FileServer
) -> None:
    http_server.files["/fw.bin"] = b"firmware image " * 5000
    station = await make_station(
        evses=[{"id": 1, "connectors": [1]}, {"id": 2, "connectors": [1]}],
        device_model={"SampledDataCtrlr.TxUpdatedInterval": 0, "AlignedDataCtrlr.Interval": 0},
    )
    await csms.wait_for(lambda: station.online)
    item = {
        "component": {"name": "ChargingStation"},
        "variable": {"name": "AllowNewSessionsPendingFirmwareUpdate"},
        "attributeValue": "true",
    }
    answer = await csms.send("CS001", "SetVariables", {"setVariableData": [item]})
    assert answer["setVariableResult"][0]["attributeStatus"] == "Accepted"
    sim(station).plug_in(1)
    sim(station).present_id_token(1, "TOKEN1", "ISO14443")
    await csms.wait_for(lambda: started_on(csms, 1))
    firmware = {"location": http_server.url("/fw.bin"), "retrieveDateTime": iso(time.time())}
    request = {"requestId": 3, "retries": 0, "firmware": firmware}
    assert (await csms.send("CS001", "UpdateFirmware", request))["status"] == "Accepted"
    await csms.wait_for(
        lambda: (
            "InstallScheduled" in [p["status"] for p in csms.received("FirmwareStatusNotification")]
        ),
        15,
    )
    sim(station).plug_in(2)  # the idle EVSE still takes a new session
    sim(station).present_id_token(2, "TOKEN2", "ISO14443")
    await csms.wait_for(lambda: started_on(csms, 2))
    unavailable = [
        s
        for s in csms.received("StatusNotification")
        if s["evseId"] == 2 and s["connectorStatus"] == "Unavailable"
    ]
    assert unavailable == []
