"""Reservation (H01-H04) against the independent CSMS (``ocpp`` package) with the sim backend."""

from __future__ import annotations

import time
from typing import Any

from support import StationFactory, sim, transaction

from ocpp_station import Station
from ocpp_station.clock import iso
from ocpp_station.csms import LocalCSMS

ALICE = {"idToken": "ALICE", "type": "ISO14443"}
TWO_EVSES = [{"id": 1, "connectors": [1]}, {"id": 2, "connectors": [1]}]
SETTINGS = {"SampledDataCtrlr.TxUpdatedInterval": 0, "AlignedDataCtrlr.Interval": 0}


def statuses(csms: LocalCSMS, sid: str) -> list[tuple[int, int, str]]:
    return [
        (s["evseId"], s["connectorId"], s["connectorStatus"])
        for s in csms.received("StatusNotification", sid)
    ]


def started(csms: LocalCSMS, sid: str) -> list[dict[str, Any]]:
    return [e for e in csms.received("TransactionEvent", sid) if e["eventType"] == "Started"]


async def booted(csms: LocalCSMS, make_station: StationFactory, **settings: Any) -> Station:
    station = await make_station(evses=TWO_EVSES, device_model={**SETTINGS, **settings})
    await csms.wait_received("StatusNotification", count=2, station=station.config.id)
    return station


async def reserve(
    csms: LocalCSMS, sid: str, rid: int, evse: int | None = 1, seconds: float = 600, **more: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": rid,
        "expiryDateTime": iso(time.time() + seconds),
        "idToken": ALICE,
        **more,
    }
    if evse is not None:
        payload["evseId"] = evse
    return await csms.send(sid, "ReserveNow", payload)


async def test_reserved_evse_admits_only_its_token(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """H01.FR.23 (Reserved), G01.FR.09 (a plug-in does not change it), H03.FR.01 (another token
    is refused there), H03.FR.09/10 and H01.FR.15 (the reserved token starts a transaction that
    carries reservationId; the connector becomes Occupied)."""
    station = await booted(csms, make_station)
    sid = station.config.id
    assert await reserve(csms, sid, 17) == {"status": "Accepted"}
    await csms.wait_for(lambda: (1, 1, "Reserved") in statuses(csms, sid))
    sim(station).plug_in(1, 1)
    sim(station).present_id_token(1, "BOB")
    await csms.wait_for(
        lambda: any(a["idToken"]["idToken"] == "BOB" for a in csms.received("Authorize", sid))
    )
    sim(station).present_id_token(1, "ALICE")
    (first,) = await csms.wait_for(lambda: started(csms, sid))
    assert first["idToken"] == ALICE and first["reservationId"] == 17
    await csms.wait_for(lambda: statuses(csms, sid)[-1] == (1, 1, "Occupied"))
    assert (1, 1, "Available") not in statuses(csms, sid)[2:]
    # used up: cancelling it now finds nothing, and nothing tells the CSMS it ended otherwise
    assert (await csms.send(sid, "CancelReservation", {"reservationId": 17}))[
        "status"
    ] == "Rejected"
    assert csms.received("ReservationStatusUpdate", sid) == []


async def test_other_evse_stays_free_for_others(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """A reservation of EVSE 1 leaves EVSE 2 to anybody, without a reservationId."""
    station = await booted(csms, make_station)
    sid = station.config.id
    assert await reserve(csms, sid, 1) == {"status": "Accepted"}
    sim(station).plug_in(2, 1)
    sim(station).present_id_token(2, "BOB")
    (first,) = await csms.wait_for(lambda: started(csms, sid))
    assert first["evse"]["id"] == 2 and "reservationId" not in first


async def test_cancel(csms: LocalCSMS, make_station: StationFactory) -> None:
    """H02.FR.01-04: Accepted and Available again; an unknown id is Rejected; no
    ReservationStatusUpdate for a cancelled reservation."""
    station = await booted(csms, make_station)
    sid = station.config.id
    assert await reserve(csms, sid, 5, evse=2) == {"status": "Accepted"}
    await csms.wait_for(lambda: statuses(csms, sid)[-1] == (2, 1, "Reserved"))
    assert await csms.send(sid, "CancelReservation", {"reservationId": 5}) == {"status": "Accepted"}
    await csms.wait_for(lambda: statuses(csms, sid)[-1] == (2, 1, "Available"))
    assert await csms.send(sid, "CancelReservation", {"reservationId": 5}) == {"status": "Rejected"}
    sim(station).plug_in(2, 1)
    sim(station).present_id_token(2, "BOB")  # anybody may charge there again (H02.FR.03)
    await csms.wait_for(lambda: started(csms, sid))
    assert csms.received("ReservationStatusUpdate", sid) == []


async def test_expiry(csms: LocalCSMS, make_station: StationFactory) -> None:
    """H04.FR.01-03: StatusNotification Available, then ReservationStatusUpdate Expired."""
    station = await booted(csms, make_station)
    sid = station.config.id
    assert await reserve(csms, sid, 8, seconds=1.5) == {"status": "Accepted"}
    await csms.wait_for(lambda: (1, 1, "Reserved") in statuses(csms, sid))
    (update,) = await csms.wait_received("ReservationStatusUpdate", station=sid)
    assert update == {"reservationId": 8, "reservationUpdateStatus": "Expired"}
    assert statuses(csms, sid)[-1] == (1, 1, "Available")


async def test_occupied_faulted_unavailable(csms: LocalCSMS, make_station: StationFactory) -> None:
    """H01.FR.11/12/14, and H01.FR.16/17: a reserved EVSE that becomes Faulted ends its
    reservation with ReservationStatusUpdate Removed."""
    station = await booted(csms, make_station)
    sid = station.config.id
    sim(station).plug_in(1, 1)
    await csms.wait_for(lambda: (1, 1, "Occupied") in statuses(csms, sid))
    assert (await reserve(csms, sid, 1))["status"] == "Occupied"
    assert (await reserve(csms, sid, 2, evse=2))["status"] == "Accepted"
    assert (await reserve(csms, sid, 3, evse=2))["status"] == "Occupied"  # reserved already
    sim(station).fault(2, "GroundFailure")
    (removed,) = await csms.wait_received("ReservationStatusUpdate", station=sid)
    assert removed == {"reservationId": 2, "reservationUpdateStatus": "Removed"}
    assert (await reserve(csms, sid, 4, evse=2))["status"] == "Faulted"
    sim(station).clear_fault(2)
    change = {"operationalStatus": "Inoperative", "evse": {"id": 2}}
    assert (await csms.send(sid, "ChangeAvailability", change))["status"] == "Accepted"
    assert (await reserve(csms, sid, 4, evse=2))["status"] == "Unavailable"
    unknown = await reserve(csms, sid, 4, evse=9)
    assert (unknown["status"], unknown["statusInfo"]["reasonCode"]) == ("Rejected", "UnknownEvse")


async def test_enabled_and_non_evse_specific(csms: LocalCSMS, make_station: StationFactory) -> None:
    """H01.FR.19 (no EVSE: Rejected by default), H01.FR.18/04 (allowed with NonEvseSpecific),
    H01.FR.20 (two reservations take both EVSEs: all Reserved), H01.FR.01 (disabled)."""
    station = await booted(csms, make_station)
    sid = station.config.id
    assert (await reserve(csms, sid, 1, evse=None))["status"] == "Rejected"
    await set_variable(csms, sid, "NonEvseSpecific", "true")
    assert await reserve(csms, sid, 1, evse=None) == {"status": "Accepted"}
    assert await reserve(csms, sid, 2, evse=None) == {"status": "Accepted"}
    await csms.wait_for(
        lambda: {(1, 1, "Reserved"), (2, 1, "Reserved")} <= set(statuses(csms, sid))
    )
    assert (await reserve(csms, sid, 3, evse=None))["status"] == "Occupied"
    sim(station).plug_in(2, 1)
    sim(station).present_id_token(2, "ALICE")  # uses one of them (H03.FR.03)
    (first,) = await csms.wait_for(lambda: started(csms, sid))
    assert first["reservationId"] in (1, 2)
    await set_variable(csms, sid, "Enabled", "false")
    assert (await reserve(csms, sid, 9, evse=1))["status"] == "Rejected"


async def set_variable(csms: LocalCSMS, sid: str, name: str, value: str) -> None:
    data = {"component": {"name": "ReservationCtrlr"}, "variable": {"name": name}}
    result = await csms.send(
        sid, "SetVariables", {"setVariableData": [{**data, "attributeValue": value}]}
    )
    assert result["setVariableResult"][0]["attributeStatus"] == "Accepted"


async def test_reservation_survives_a_reset(csms: LocalCSMS, make_station: StationFactory) -> None:
    """B11/B12: after a Reset the EVSE is reported Reserved again and the reservation is still
    used by its token."""
    station = await booted(csms, make_station)
    sid = station.config.id
    assert await reserve(csms, sid, 21) == {"status": "Accepted"}
    await csms.wait_for(lambda: (1, 1, "Reserved") in statuses(csms, sid))
    before = len(statuses(csms, sid))
    assert (await csms.send(sid, "Reset", {"type": "Immediate"}))["status"] == "Accepted"
    await csms.wait_received("BootNotification", count=2, station=sid, timeout=15)
    await csms.wait_for(
        lambda: {(1, 1, "Reserved"), (2, 1, "Available")} <= set(statuses(csms, sid)[before:])
    )
    sim(station).plug_in(1, 1)
    sim(station).present_id_token(1, "BOB")
    await csms.wait_for(
        lambda: any(a["idToken"]["idToken"] == "BOB" for a in csms.received("Authorize", sid))
    )
    sim(station).present_id_token(1, "ALICE")
    (first,) = await csms.wait_for(lambda: started(csms, sid))
    assert first["idToken"] == ALICE and first["reservationId"] == 21
    assert transaction(station) is not None


async def test_remote_start_on_a_reserved_evse(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """H03.FR.09 (errata): a RequestStartTransaction with another token is Rejected on the
    reserved EVSE; with the reservation's token it is Accepted and carries reservationId."""
    station = await booted(csms, make_station)
    sid = station.config.id
    assert await reserve(csms, sid, 30) == {"status": "Accepted"}
    bob = {"idToken": "BOB", "type": "ISO14443"}
    other = await csms.send(
        sid, "RequestStartTransaction", {"idToken": bob, "remoteStartId": 1, "evseId": 1}
    )
    assert other["status"] == "Rejected"
    mine = await csms.send(
        sid, "RequestStartTransaction", {"idToken": ALICE, "remoteStartId": 2, "evseId": 1}
    )
    assert mine["status"] == "Accepted"
    sim(station).plug_in(1, 1)
    (first,) = await csms.wait_for(lambda: started(csms, sid))
    assert first["reservationId"] == 30 and first["transactionInfo"]["remoteStartId"] == 2


async def test_unspecified_reservation_follows_the_free_evses(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """H01.FR.07/20: one reservation without an EVSE and two free EVSEs: nothing Reserved; once
    EVSE 2 is taken, EVSE 1 is the last free one and reports Reserved; another token is refused
    there, the reservation's token uses it."""
    station = await booted(csms, make_station, **{"ReservationCtrlr.NonEvseSpecific": True})
    sid = station.config.id
    assert await reserve(csms, sid, 40, evse=None) == {"status": "Accepted"}
    sim(station).plug_in(2, 1)
    sim(station).present_id_token(2, "BOB")
    await csms.wait_for(lambda: started(csms, sid))
    await csms.wait_for(lambda: (1, 1, "Reserved") in statuses(csms, sid))
    sim(station).plug_in(1, 1)
    sim(station).present_id_token(1, "CAROL")
    await csms.wait_for(
        lambda: any(a["idToken"]["idToken"] == "CAROL" for a in csms.received("Authorize", sid))
    )
    sim(station).present_id_token(1, "ALICE")
    await csms.wait_for(lambda: len(started(csms, sid)) == 2)
    second = started(csms, sid)[1]
    assert second["idToken"] == ALICE and second["reservationId"] == 40
