"""The cable lock through the CSMS and the simulated controller (issue 14): locked while an
authorized session uses the cable, unlocked at its end (E06.FR.10, E07.FR.07) and on an EV-side
unplug per OCPPCommCtrlr.UnlockOnEVSideDisconnect (E09.FR.02/03, E10.FR.01), kept locked for the
owner after an invalid idToken (E05.FR.11); shown as ``connectors[].locked`` in ``status``."""

from __future__ import annotations

from typing import Any

from support import StationFactory, set_variable, sim

from ocpp_station import Station
from ocpp_station.csms import LocalCSMS

FAST = {
    "SampledDataCtrlr.TxUpdatedInterval": 0,
    "AlignedDataCtrlr.Interval": 0,
    "OCPPCommCtrlr.RetryBackOffRepeatTimes": 0,
}


async def online(csms: LocalCSMS, make_station: StationFactory, **dm: Any) -> Station:
    station = await make_station(device_model={**FAST, **dm})
    await csms.wait_for(lambda: station.online)
    return station


def sim_locked(station: Station) -> bool:
    return bool(sim(station).status()["evses"][0]["locks"][0]["locked"])


def status_locked(station: Station) -> bool:
    return bool(station.status()["evses"][0]["connectors"][0]["locked"])


async def wait_locked(csms: LocalCSMS, station: Station, locked: bool) -> None:
    await csms.wait_for(lambda: sim_locked(station) is locked and status_locked(station) is locked)


def events(csms: LocalCSMS) -> list[dict[str, Any]]:
    return csms.received("TransactionEvent", "CS001")


async def charging(csms: LocalCSMS, station: Station) -> None:
    sim(station).plug_in(1, 1)
    sim(station).present_id_token(1, "OWNER")
    await csms.wait_for(
        lambda: any(e["transactionInfo"].get("chargingState") == "Charging" for e in events(csms))
    )


async def test_locked_while_charging_and_unlocked_by_the_same_token_e07_fr_07(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await online(csms, make_station)
    assert status_locked(station) is False
    sim(station).plug_in(1, 1)
    await csms.wait_received("StatusNotification", 2, "CS001")
    assert sim_locked(station) is False  # a cable alone is not locked
    await charging(csms, station)
    await wait_locked(csms, station, True)
    sim(station).present_id_token(1, "OWNER")  # E07: the same token ends it
    await csms.wait_for(lambda: events(csms)[-1]["eventType"] == "Ended")
    await wait_locked(csms, station, False)  # E06.FR.10 / E07.FR.07


async def test_remote_stop_unlocks_e06_fr_10(csms: LocalCSMS, make_station: StationFactory) -> None:
    station = await online(csms, make_station)
    await charging(csms, station)
    await wait_locked(csms, station, True)
    tx_id = events(csms)[0]["transactionInfo"]["transactionId"]
    answer = await csms.send("CS001", "RequestStopTransaction", {"transactionId": tx_id})
    assert answer["status"] == "Accepted"
    await wait_locked(csms, station, False)


async def test_ev_side_unplug_unlocks_with_unlock_on_ev_side_disconnect_e09_fr_02(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await online(csms, make_station)  # UnlockOnEVSideDisconnect defaults to true
    await charging(csms, station)
    await wait_locked(csms, station, True)
    sim(station).unplug_ev(1)
    await csms.wait_for(lambda: events(csms)[-1]["eventType"] == "Ended")
    assert events(csms)[-1]["transactionInfo"]["stoppedReason"] == "EVDisconnected"
    await wait_locked(csms, station, False)


async def test_ev_side_unplug_keeps_the_lock_until_the_owner_e09_fr_03(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await online(csms, make_station, **{"OCPPCommCtrlr.UnlockOnEVSideDisconnect": False})
    await charging(csms, station)
    await wait_locked(csms, station, True)
    sim(station).unplug_ev(1)
    await csms.wait_for(lambda: events(csms)[-1]["eventType"] == "Ended")
    sim(station).present_id_token(1, "STRANGER")  # not the owner: stays locked
    await csms.wait_received("Authorize", 1, "CS001")
    assert sim_locked(station) is True and status_locked(station) is True
    sim(station).present_id_token(1, "OWNER")
    await wait_locked(csms, station, False)
    assert [e["eventType"] for e in events(csms)].count("Started") == 1  # nothing new started


async def test_unlock_on_ev_side_disconnect_set_by_the_csms_applies(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """OCPPCommCtrlr.UnlockOnEVSideDisconnect is live: a SetVariables false keeps the lock."""
    station = await online(csms, make_station)
    answer = await set_variable(csms, "CS001", "OCPPCommCtrlr", "UnlockOnEVSideDisconnect", "false")
    assert answer["attributeStatus"] == "Accepted"
    await charging(csms, station)
    await wait_locked(csms, station, True)
    sim(station).unplug_ev(1)
    await csms.wait_for(lambda: events(csms)[-1]["eventType"] == "Ended")
    assert sim_locked(station) is True


async def test_suspended_transaction_keeps_the_lock_until_the_token_e10_fr_01(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await online(
        csms,
        make_station,
        **{
            "TxCtrlr.StopTxOnEVSideDisconnect": False,
            "TxCtrlr.TxStopPoint": "Authorized",
            "OCPPCommCtrlr.UnlockOnEVSideDisconnect": False,
        },
    )
    await charging(csms, station)
    await wait_locked(csms, station, True)
    sim(station).unplug_ev(1)
    await csms.wait_for(lambda: events(csms)[-1]["triggerReason"] == "EVCommunicationLost")
    assert events(csms)[-1]["eventType"] == "Updated"  # E10: suspended, not ended
    assert sim_locked(station) is True
    sim(station).present_id_token(1, "OWNER")
    await csms.wait_for(lambda: events(csms)[-1]["eventType"] == "Ended")
    await wait_locked(csms, station, False)


async def test_invalid_id_ends_the_transaction_and_keeps_the_cable_locked_e05_fr_11(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await online(csms, make_station, **{"AuthCtrlr.AuthorizeRemoteStart": False})
    sim(station).plug_in(1, 1)
    await csms.wait_received("StatusNotification", 2, "CS001")
    csms.policy.token_status["OWNER"] = "Invalid"  # the CSMS refuses it in the TransactionEvent
    answer = await csms.send(
        "CS001",
        "RequestStartTransaction",
        {"idToken": {"idToken": "OWNER", "type": "ISO14443"}, "remoteStartId": 7},
    )
    assert answer["status"] == "Accepted"
    await csms.wait_for(lambda: events(csms) and events(csms)[-1]["eventType"] == "Ended")
    assert events(csms)[-1]["transactionInfo"]["stoppedReason"] == "DeAuthorized"
    await wait_locked(csms, station, True)
    sim(station).present_id_token(1, "OWNER")  # the owner presents his identifier
    await wait_locked(csms, station, False)
