"""ChangeAvailability, StatusNotification, faults, Reset and TriggerMessage against the independent
CSMS (``ocpp`` package) with the sim backend (issue 5; OCPP 2.0.1 G01–G04, B11–B12, F06)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ocpp.exceptions import OCPPError as PackageOCPPError
from support import StationFactory, sim, variable

from ocpp_station import Station
from ocpp_station.csms import LocalCSMS

TWO_EVSES = [{"id": 1, "connectors": [1]}, {"id": 2, "connectors": [1]}]


def statuses(csms: LocalCSMS, station: str) -> list[tuple[int, int, str]]:
    return [
        (s["evseId"], s["connectorId"], s["connectorStatus"])
        for s in csms.received("StatusNotification", station)
    ]


async def wait_status(
    csms: LocalCSMS, station: str, evse: int, connector: int, status: str, after: int = 0
) -> None:
    await csms.wait_for(
        lambda: (evse, connector, status) in statuses(csms, station)[after:], timeout=10
    )


async def booted(csms: LocalCSMS, make_station: StationFactory, **kwargs: Any) -> Station:
    station = await make_station(**kwargs)
    count = sum(len(e["connectors"]) for e in kwargs.get("evses", [{"connectors": [1]}]))
    await csms.wait_received("StatusNotification", count=count, station=station.config.id)
    return station


async def start_session(csms: LocalCSMS, station: Station, evse: int = 1) -> str:
    """Plug in and swipe a card: with the default TxStartPoint (PowerPathClosed) a transaction
    starts; return its id once the CSMS got TransactionEvent Started."""
    sid = station.config.id
    before = len(csms.received("TransactionEvent", sid))
    sim(station).plug_in(evse, 1)
    sim(station).present_id_token(evse, f"CARD{evse}", "ISO14443")
    events = await csms.wait_for(
        lambda: [
            e
            for e in csms.received("TransactionEvent", sid)[before:]
            if e["eventType"] == "Started"
        ]
    )
    return str(events[0]["transactionInfo"]["transactionId"])


async def test_inoperative_idle_evse_then_operative(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await booted(csms, make_station)
    sid = station.config.id
    n = len(statuses(csms, sid))
    result = await csms.send(
        sid, "ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 1}}
    )
    assert result == {"status": "Accepted"}
    await wait_status(csms, sid, 1, 1, "Unavailable", after=n)
    # The device model follows (what the CSMS reads back), and the controller is told.
    connector_state = await variable(
        csms, sid, "Connector", "AvailabilityState", evse=1, connector=1
    )
    assert connector_state == "Unavailable"
    assert await variable(csms, sid, "EVSE", "AvailabilityState", evse=1) == "Unavailable"
    assert sim(station).status()["evses"][0]["enabled"] is False
    result = await csms.send(
        sid, "ChangeAvailability", {"operationalStatus": "Operative", "evse": {"id": 1}}
    )
    assert result == {"status": "Accepted"}
    await wait_status(csms, sid, 1, 1, "Available", after=n + 1)
    # Exactly one notification per change.
    assert statuses(csms, sid)[n:] == [(1, 1, "Unavailable"), (1, 1, "Available")]


async def test_inoperative_during_session_is_scheduled(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await booted(csms, make_station)
    sid = station.config.id
    await start_session(csms, station)
    n = len(statuses(csms, sid))
    result = await csms.send(
        sid, "ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 1}}
    )
    assert result["status"] == "Scheduled"
    status = station.status()
    assert status["evses"][0]["transaction"] is not None
    # Nothing changes while the car is there.
    sim(station).ev_state(1, "B")
    await csms.wait_received("TransactionEvent", count=3, station=sid)
    assert all(s[2] != "Unavailable" for s in statuses(csms, sid)[n:])
    sim(station).unplug(1)
    await csms.wait_for(
        lambda: any(e["eventType"] == "Ended" for e in csms.received("TransactionEvent", sid))
    )
    await wait_status(csms, sid, 1, 1, "Unavailable", after=n)
    assert statuses(csms, sid)[n:][-1] == (1, 1, "Unavailable")


@pytest.mark.parametrize("evse", [None, {"id": 0}], ids=["evse-absent", "evse-id-0"])
async def test_whole_station_while_one_evse_charges(
    csms: LocalCSMS, make_station: StationFactory, evse: dict[str, int] | None
) -> None:
    station = await booted(csms, make_station, evses=TWO_EVSES)
    sid = station.config.id
    await start_session(csms, station, evse=2)
    n = len(statuses(csms, sid))
    payload: dict[str, Any] = {"operationalStatus": "Inoperative"}
    if evse is not None:
        payload["evse"] = evse
    result = await csms.send(sid, "ChangeAvailability", payload)
    assert result["status"] == "Scheduled"
    # The idle EVSE goes out at once, the busy one when its session ends.
    await wait_status(csms, sid, 1, 1, "Unavailable", after=n)
    assert (2, 1, "Unavailable") not in statuses(csms, sid)[n:]
    sim(station).unplug(2)
    await wait_status(csms, sid, 2, 1, "Unavailable", after=n)
    result = await csms.send(sid, "ChangeAvailability", {"operationalStatus": "Operative"})
    assert result["status"] == "Accepted"
    await wait_status(csms, sid, 1, 1, "Available", after=n + 2)
    await wait_status(csms, sid, 2, 1, "Available", after=n + 2)


async def test_one_connector_of_two(csms: LocalCSMS, make_station: StationFactory) -> None:
    station = await booted(csms, make_station, evses=[{"id": 1, "connectors": [1, 2]}])
    sid = station.config.id
    n = len(statuses(csms, sid))
    result = await csms.send(
        sid,
        "ChangeAvailability",
        {"operationalStatus": "Inoperative", "evse": {"id": 1, "connectorId": 2}},
    )
    assert result == {"status": "Accepted"}
    await wait_status(csms, sid, 1, 2, "Unavailable", after=n)
    assert statuses(csms, sid)[n:] == [(1, 2, "Unavailable")]
    assert station.status()["evses"][0]["connectors"][0]["status"] == "Available"


async def test_unknown_evse_and_connector_rejected(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await booted(csms, make_station)
    sid = station.config.id
    result = await csms.send(
        sid, "ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 7}}
    )
    assert result["status"] == "Rejected"
    assert result["statusInfo"]["reasonCode"] == "UnknownEvse"
    result = await csms.send(
        sid,
        "ChangeAvailability",
        {"operationalStatus": "Inoperative", "evse": {"id": 1, "connectorId": 5}},
    )
    assert result["status"] == "Rejected"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"operationalStatus": "Available", "evse": {"id": 1}}, "TypeConstraintViolation"),
        ({"operationalStatus": "Inoperative", "connectorId": 1}, "FormatViolation"),
        ({"type": "Inoperative", "connectorId": 1}, "FormatViolation"),
    ],
    ids=["1.6-enum", "1.6-flat-connectorId", "1.6-whole-payload"],
)
async def test_ocpp16_payload_gets_callerror_and_connection_stays(
    csms: LocalCSMS, make_station: StationFactory, payload: dict[str, Any], code: str
) -> None:
    station = await booted(csms, make_station)
    sid = station.config.id
    await csms.send_raw(sid, json.dumps([2, "legacy-1", "ChangeAvailability", payload]))
    frame = await csms.wait_for(
        lambda: [f for f in csms.frames if f.kind == 4 and f.message_id == "legacy-1"]
    )
    assert frame[0].payload[0] == code
    # The connection is still up and serves the next call.
    result = await csms.send(sid, "ChangeAvailability", {"operationalStatus": "Operative"})
    assert result["status"] == "Accepted"
    assert csms.connections == 1


async def test_inoperative_survives_restart(
    csms: LocalCSMS, make_station: StationFactory, short_tmp: Path
) -> None:
    station = await booted(csms, make_station, station_id="CS100")
    await csms.send(
        "CS100", "ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 1}}
    )
    await wait_status(csms, "CS100", 1, 1, "Unavailable")
    await station.stop()
    n = len(csms.received("StatusNotification", "CS100"))
    again = await make_station(station_id="CS100", data_dir=short_tmp / "CS100")
    await csms.wait_received("BootNotification", count=2, station="CS100")
    await wait_status(csms, "CS100", 1, 1, "Unavailable", after=n)
    assert statuses(csms, "CS100")[n:] == [(1, 1, "Unavailable")]
    assert again.status()["evses"][0]["operational_status"] == "Inoperative"


async def test_fault_raised_and_cleared(csms: LocalCSMS, make_station: StationFactory) -> None:
    station = await booted(csms, make_station)
    sid = station.config.id
    n = len(statuses(csms, sid))
    sim(station).fault(1, "OverCurrent")
    await wait_status(csms, sid, 1, 1, "Faulted", after=n)
    sim(station).clear_fault(1)
    await wait_status(csms, sid, 1, 1, "Available", after=n + 1)
    assert statuses(csms, sid)[n:] == [(1, 1, "Faulted"), (1, 1, "Available")]


async def test_reset_on_idle_during_session(csms: LocalCSMS, make_station: StationFactory) -> None:
    station = await booted(csms, make_station)
    sid = station.config.id
    await start_session(csms, station)
    result = await csms.send(sid, "Reset", {"type": "OnIdle"})
    assert result["status"] == "Scheduled"
    assert len(csms.received("BootNotification", sid)) == 1
    sim(station).unplug(1)
    boots = await csms.wait_received("BootNotification", count=2, station=sid, timeout=15)
    # B12: the reset happened after the transaction ended; the new boot says why.
    assert boots[1]["reason"] == "RemoteReset"
    ended = [e for e in csms.received("TransactionEvent", sid) if e["eventType"] == "Ended"]
    assert len(ended) == 1
    await csms.wait_received("StatusNotification", count=len(statuses(csms, sid)) + 1, station=sid)


async def test_reset_immediate_ends_session_first(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await booted(csms, make_station)
    sid = station.config.id
    await start_session(csms, station)
    result = await csms.send(sid, "Reset", {"type": "Immediate"})
    assert result["status"] == "Accepted"
    boots = await csms.wait_received("BootNotification", count=2, station=sid, timeout=15)
    assert boots[1]["reason"] == "RemoteReset"
    ended = [e for e in csms.received("TransactionEvent", sid) if e["eventType"] == "Ended"]
    assert ended[0]["transactionInfo"]["stoppedReason"] == "ImmediateReset"
    assert ended[0]["triggerReason"] == "ResetCommand"


async def test_trigger_status_notification(csms: LocalCSMS, make_station: StationFactory) -> None:
    station = await booted(csms, make_station, evses=TWO_EVSES)
    sid = station.config.id
    n = len(statuses(csms, sid))
    result = await csms.send(
        sid,
        "TriggerMessage",
        {"requestedMessage": "StatusNotification", "evse": {"id": 2, "connectorId": 1}},
    )
    assert result == {"status": "Accepted"}
    await csms.wait_for(lambda: len(statuses(csms, sid)) > n)
    assert statuses(csms, sid)[n:] == [(2, 1, "Available")]
    # Every connector when no EVSE is named.
    result = await csms.send(sid, "TriggerMessage", {"requestedMessage": "StatusNotification"})
    assert result == {"status": "Accepted"}
    await csms.wait_for(lambda: len(statuses(csms, sid)) >= n + 3)


async def test_trigger_boot_rejected_after_accepted_and_others(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await booted(csms, make_station)
    sid = station.config.id
    result = await csms.send(sid, "TriggerMessage", {"requestedMessage": "BootNotification"})
    assert result["status"] == "Rejected"  # F06.FR.17
    beats = len(csms.received("Heartbeat", sid))
    result = await csms.send(sid, "TriggerMessage", {"requestedMessage": "Heartbeat"})
    assert result["status"] == "Accepted"
    await csms.wait_received("Heartbeat", count=beats + 1, station=sid)
    # no ISO 15118 certificates (SignChargingStationCertificate: test_certificate_renewal.py)
    result = await csms.send(sid, "TriggerMessage", {"requestedMessage": "SignV2GCertificate"})
    assert result["status"] == "NotImplemented"
    result = await csms.send(
        sid, "TriggerMessage", {"requestedMessage": "StatusNotification", "evse": {"id": 9}}
    )
    assert result["status"] == "Rejected"


async def test_unsupported_action_is_not_supported(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await booted(csms, make_station)
    with pytest.raises(PackageOCPPError) as info:
        await csms.send(
            station.config.id,
            "PublishFirmware",  # a local controller's use case (L03): not a station's
            {
                "location": "https://x/fw.bin",
                "checksum": "0123456789abcdef0123456789abcdef",
                "requestId": 1,
            },
        )
    assert type(info.value).__name__ == "NotSupportedError"


async def test_status_reports_the_live_state(csms: LocalCSMS, make_station: StationFactory) -> None:
    """The control API's `status` during a session on one of two EVSEs."""
    station = await booted(csms, make_station, evses=TWO_EVSES)
    tx_id = await start_session(csms, station, evse=1)
    await csms.send(
        station.config.id,
        "ChangeAvailability",
        {"operationalStatus": "Inoperative", "evse": {"id": 2}},
    )
    await csms.wait_for(lambda: station.status()["evses"][1]["operational_status"] == "Inoperative")
    status = station.status()
    assert status["connected"] is True and status["registration"] == "Accepted"
    first, second = status["evses"]
    assert first["id"] == 1 and first["operational_status"] == "Operative"
    assert first["connectors"] == [
        {"id": 1, "status": "Occupied", "operational_status": "Operative", "locked": True}
    ]
    assert first["transaction"]["id"] == tx_id
    assert first["transaction"]["seq_no"] >= 1
    assert first["transaction"]["charging_state"] in ("EVConnected", "Charging")
    assert isinstance(first["limit_amps"], float)
    assert second["connectors"][0]["status"] == "Unavailable"
    assert second["transaction"] is None
