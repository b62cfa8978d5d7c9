"""AuthCtrlr.Enabled = false: charging without a token (OCPP 2.0.1 part 2, appendix 2.3.1
AuthCtrlr.Enabled; C02.FR.01: idToken empty, type NoAuthorization; no AuthorizeRequest)."""

from __future__ import annotations

from typing import Any

from support import StationFactory, queued, sim, variable

from ocpp_station import Station
from ocpp_station.csms import LocalCSMS

NO_AUTH = {"idToken": "", "type": "NoAuthorization"}
FAST = {"SampledDataCtrlr.TxUpdatedInterval": 0, "AlignedDataCtrlr.Interval": 0}


async def online_station(
    csms: LocalCSMS, make_station: StationFactory, **device_model: Any
) -> Station:
    station = await make_station(device_model={**FAST, **device_model})
    await csms.wait_received("StatusNotification", station=station.config.id)
    await csms.wait_for(lambda: station.online)
    return station


def events(csms: LocalCSMS) -> list[dict[str, Any]]:
    return csms.received("TransactionEvent")


async def test_plug_in_charges_with_no_authorization_token(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """C02.FR.01: the EV is plugged in and asks for power; energy flows, the transaction names
    idToken "" of type NoAuthorization, and no Authorize is sent."""
    station = await online_station(csms, make_station, **{"AuthCtrlr.Enabled": False})
    sim(station).plug_in(1, 1)  # the sim's EV asks for energy at once (pilot C)
    await csms.wait_for(lambda: sim(station).model.status()["evses"][0]["power_w"] > 0)
    await csms.wait_for(
        lambda: any(e["transactionInfo"].get("chargingState") == "Charging" for e in events(csms))
    )
    sent = events(csms)
    assert sent[0]["eventType"] == "Started"
    with_token = [e for e in sent if "idToken" in e]
    assert [e["idToken"] for e in with_token] == [NO_AUTH]
    assert csms.received("Authorize") == []
    # the CSMS answer for a NoAuthorization token is never cached (C02.FR.03)
    await csms.wait_for(lambda: queued(station) == 0)
    sid = station.config.id
    assert await variable(csms, sid, "AuthCacheCtrlr", "Storage") == "0"  # the cache holds no byte

    sim(station).unplug(1)
    await csms.wait_for(lambda: events(csms)[-1]["eventType"] == "Ended")
    assert events(csms)[-1]["transactionInfo"]["stoppedReason"] == "EVDisconnected"


async def test_a_presented_token_goes_into_the_transaction_without_authorize(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """Appendix AuthCtrlr.Enabled: "If an idToken was provided, then it will be put in the
    idToken field" - still without authorization."""
    csms.policy.token_status["CARD"] = "Invalid"  # the CSMS is never asked
    station = await online_station(csms, make_station, **{"AuthCtrlr.Enabled": False})
    sim(station).present_id_token(1, "CARD")
    sim(station).plug_in(1, 1)
    await csms.wait_for(lambda: sim(station).model.status()["evses"][0]["power_w"] > 0)
    # energy flows at the station before its queued Started event has reached the CSMS
    await csms.wait_for(lambda: any("idToken" in e for e in events(csms)))
    with_token = [e["idToken"] for e in events(csms) if "idToken" in e]
    assert with_token == [{"idToken": "CARD", "type": "ISO14443"}]
    assert csms.received("Authorize") == []


async def test_enabled_true_waits_for_a_token(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """C01.FR.01: with AuthCtrlr.Enabled true energy is offered only after authorization."""
    station = await online_station(csms, make_station)
    sim(station).plug_in(1, 1)
    await csms.wait_received("StatusNotification", 2)  # the plug was seen (Occupied)
    assert sim(station).model.status()["evses"][0]["power_allowed"] is False
    assert events(csms) == []  # TxStartPoint PowerPathClosed: nothing before a token
    sim(station).present_id_token(1, "CARD")
    await csms.wait_for(lambda: sim(station).model.status()["evses"][0]["power_w"] > 0)
    assert len(csms.received("Authorize")) == 1
