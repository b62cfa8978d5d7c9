"""C15 Offline Authorization of unknown Id: a token let in offline through
OfflineTxForUnknownIdEnabled is not added to the authorization cache (C15.FR.01) - not even from
the CSMS's later answer to the queued TransactionEvent - so the next offline swipe is let in the
same way (C15.FR.08)."""

from __future__ import annotations

from typing import Any

from support import StationFactory

from hal.backends.sim import SimBackend
from ocpp_station import Station
from ocpp_station.csms import LocalCSMS

STRANGER = {"idToken": "STRANGER", "type": "ISO14443"}
SETTINGS = {
    "SampledDataCtrlr.TxUpdatedInterval": 0,
    "AlignedDataCtrlr.Interval": 0,
    "AuthCtrlr.OfflineTxForUnknownIdEnabled": True,
}


def sim(station: Station) -> SimBackend:
    assert isinstance(station.hal, SimBackend)
    return station.hal


def ended(csms: LocalCSMS) -> list[dict[str, Any]]:
    return [e for e in csms.received("TransactionEvent") if e["eventType"] == "Ended"]


async def offline_session(csms: LocalCSMS, station: Station) -> None:
    """The CSMS goes away; the stranger plugs in, swipes, charges, leaves."""
    await csms.stop()
    await csms.wait_for(lambda: not station.connected)
    sim(station).plug_in(1, 1)
    sim(station).present_id_token(1, "STRANGER")
    await csms.wait_for(lambda: sim(station).model.status()["evses"][0]["power_w"] > 0)
    sim(station).unplug(1)
    await csms.wait_for(lambda: station.status()["evses"][0]["transaction"] is None)


async def test_unknown_token_let_in_offline_is_not_cached(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    csms.policy.token_status["STRANGER"] = "Invalid"  # what the CSMS says afterwards
    station = await make_station(device_model=SETTINGS)
    await csms.wait_for(lambda: station.online)
    auth = station.blocks.authorization

    await offline_session(csms, station)
    await csms.start()  # back: the queued events go out, the CSMS answers Invalid
    await csms.wait_for(lambda: len(ended(csms)) == 1)
    await csms.wait_for(lambda: len(station.queue) == 0)
    events = csms.received("TransactionEvent")
    assert events[0]["offline"] is True and events[0]["idToken"] == STRANGER
    assert csms.received("Authorize") == []  # decided offline, never asked
    assert auth.cached(STRANGER) is None  # C15.FR.01, although the CSMS said Invalid

    await offline_session(csms, station)  # the next offline swipe charges too
    await csms.start()
    await csms.wait_for(lambda: len(ended(csms)) == 2)
    assert auth.cached(STRANGER) is None


async def test_online_answer_for_the_same_token_is_cached_again(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """The exception is only for the offline admission: an online Authorize of the token is
    cached as usual (C10.FR.04)."""
    csms.policy.token_status["STRANGER"] = "Blocked"
    station = await make_station(device_model=SETTINGS)
    await csms.wait_for(lambda: station.online)
    await offline_session(csms, station)
    await csms.start()
    await csms.wait_for(lambda: station.online and len(station.queue) == 0)
    sim(station).present_id_token(1, "STRANGER")
    await csms.wait_received("Authorize")
    await csms.wait_for(lambda: station.blocks.authorization.cached(STRANGER) is not None)
    assert station.blocks.authorization.cached(STRANGER) == {"status": "Blocked"}
