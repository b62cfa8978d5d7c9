"""Where a token may charge (C01.FR.21: idTokenInfo.evseId) and the Master Pass (C16,
AuthCtrlr.MasterPassGroupId: stops every transaction, starts none; C12.FR.09, C16.FR.02/03/07)."""

from __future__ import annotations

import asyncio
from typing import Any

from support import StationFactory, sim

from ocpp_station import Station
from ocpp_station.csms import LocalCSMS

FAST = {"SampledDataCtrlr.TxUpdatedInterval": 0, "AlignedDataCtrlr.Interval": 0}
TWO_EVSES = [{"id": 1, "connectors": [1]}, {"id": 2, "connectors": [1]}]
POLICE = {"idToken": "POLICE", "type": "Central"}


async def online_station(
    csms: LocalCSMS, make_station: StationFactory, **device_model: Any
) -> Station:
    station = await make_station(evses=TWO_EVSES, device_model={**FAST, **device_model})
    await csms.wait_received("StatusNotification", 2, station=station.config.id)
    await csms.wait_for(lambda: station.online)
    return station


def events(csms: LocalCSMS) -> list[dict[str, Any]]:
    return csms.received("TransactionEvent")


def power(station: Station, evse: int) -> bool:
    return bool(sim(station).model.status()["evses"][evse - 1]["power_allowed"])


async def test_token_accepted_for_other_evses_only_does_not_charge_here(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """C01.FR.20/21: Accepted with evseId [1] allows charging on EVSE 1 only."""
    csms.policy.token_info["ONLY1"] = {"evseId": [1]}
    station = await online_station(csms, make_station)
    sim(station).plug_in(2, 1)
    sim(station).present_id_token(2, "ONLY1")
    await csms.wait_received("Authorize")
    await asyncio.sleep(0.3)
    assert events(csms) == [] and not power(station, 2)

    sim(station).plug_in(1, 1)
    sim(station).present_id_token(1, "ONLY1")
    await csms.wait_for(lambda: power(station, 1))
    started = events(csms)[0]
    assert started["evse"]["id"] == 1
    assert started["idToken"] == {"idToken": "ONLY1", "type": "ISO14443"}
    assert not power(station, 2)


async def test_evse_restriction_holds_for_a_cached_token(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """The evseId list is kept in the cache (C10.FR.04) and honoured when the cache decides
    alone (LocalPreAuthorize, C12.FR.02)."""
    csms.policy.token_info["ONLY1"] = {"evseId": [1]}
    station = await online_station(csms, make_station, **{"AuthCtrlr.LocalPreAuthorize": True})
    sim(station).present_id_token(1, "ONLY1")  # learned from the Authorize answer
    await csms.wait_received("Authorize")
    sim(station).present_id_token(1, "ONLY1")  # the same token again ends that authorization
    sim(station).plug_in(2, 1)
    sim(station).present_id_token(2, "ONLY1")
    await asyncio.sleep(0.3)
    assert len(csms.received("Authorize")) == 1  # decided from the cache
    assert events(csms) == [] and not power(station, 2)


async def test_master_pass_stops_every_transaction_and_starts_none(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """C16: the CSMS sets MasterPassGroupId; a token of that group stops all transactions
    (the station has no UI, C16.FR.02) as in E07 with stoppedReason MasterPass (C16.FR.07) and
    starts none (C16.FR.03)."""
    csms.policy.token_info["OFFICER"] = {"groupIdToken": POLICE}
    station = await online_station(csms, make_station)
    result = await csms.send(
        "CS001",
        "SetVariables",
        {
            "setVariableData": [
                {
                    "component": {"name": "AuthCtrlr"},
                    "variable": {"name": "MasterPassGroupId"},
                    "attributeValue": "POLICE",
                }
            ]
        },
    )
    assert result["setVariableResult"][0]["attributeStatus"] == "Accepted"
    for evse, card in ((1, "DRIVER1"), (2, "DRIVER2")):
        sim(station).plug_in(evse, 1)
        sim(station).present_id_token(evse, card)
    await csms.wait_for(lambda: power(station, 1) and power(station, 2))

    sim(station).present_id_token(1, "OFFICER")
    await csms.wait_for(lambda: len([e for e in events(csms) if e["eventType"] == "Ended"]) == 2)
    ended = [e for e in events(csms) if e["eventType"] == "Ended"]
    for event in ended:
        assert event["transactionInfo"]["stoppedReason"] == "MasterPass"
        assert event["triggerReason"] == "StopAuthorized"
        assert event["idToken"] == {"idToken": "OFFICER", "type": "ISO14443"}
    started = {
        e["transactionInfo"]["transactionId"] for e in events(csms) if e["eventType"] == "Started"
    }
    assert {e["transactionInfo"]["transactionId"] for e in ended} == started
    assert len(started) == 2
    assert not power(station, 1) and not power(station, 2)

    # with no transaction left, the pass starts nothing (C12.FR.09 / C16.FR.03)
    count = len(events(csms))
    sim(station).present_id_token(1, "OFFICER")
    await csms.wait_for(lambda: len(csms.received("Authorize")) == 4)
    await asyncio.sleep(0.3)
    assert len(events(csms)) == count and not power(station, 1)


async def test_master_pass_group_unset_is_an_ordinary_group(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """Without MasterPassGroupId the same token is an ordinary driver's token."""
    csms.policy.token_info["OFFICER"] = {"groupIdToken": POLICE}
    station = await online_station(csms, make_station)
    sim(station).plug_in(1, 1)
    sim(station).present_id_token(1, "OFFICER")
    await csms.wait_for(lambda: power(station, 1))
    assert events(csms)[0]["idToken"] == {"idToken": "OFFICER", "type": "ISO14443"}
