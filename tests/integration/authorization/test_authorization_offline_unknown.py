"""C15 Offline Authorization of unknown Id: a token let in offline through
OfflineTxForUnknownIdEnabled is not added to the authorization cache (C15.FR.01) - not even from
the CSMS's later answer to the queued TransactionEvent - so the next offline swipe is let in the
same way (C15.FR.08)."""

from __future__ import annotations

from typing import Any

from support import StationFactory, queued, sim, variable

from ocpp_station import Station
from ocpp_station.csms import LocalCSMS

STRANGER = {"idToken": "STRANGER", "type": "ISO14443"}
SETTINGS = {
    "SampledDataCtrlr.TxUpdatedInterval": 0,
    "AlignedDataCtrlr.Interval": 0,
    "AuthCtrlr.OfflineTxForUnknownIdEnabled": True,
}


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


async def cache_bytes(csms: LocalCSMS, station: Station) -> str:
    """AuthCacheCtrlr.Storage as the CSMS reads it: the bytes the authorization cache holds."""
    return await variable(csms, station.config.id, "AuthCacheCtrlr", "Storage")


async def test_unknown_token_let_in_offline_is_not_cached(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    csms.policy.token_status["STRANGER"] = "Invalid"  # what the CSMS says afterwards
    station = await make_station(device_model=SETTINGS)
    await csms.wait_for(lambda: station.online)

    await offline_session(csms, station)
    await csms.start()  # back: the queued events go out, the CSMS answers Invalid
    await csms.wait_for(lambda: len(ended(csms)) == 1)
    await csms.wait_for(lambda: queued(station) == 0)
    events = csms.received("TransactionEvent")
    assert events[0]["offline"] is True and events[0]["idToken"] == STRANGER
    assert csms.received("Authorize") == []  # decided offline, never asked
    assert await cache_bytes(csms, station) == "0"  # C15.FR.01, although the CSMS said Invalid

    # C15.FR.08: the next offline swipe charges too (a cached Invalid would refuse it offline)
    await offline_session(csms, station)
    await csms.start()
    await csms.wait_for(lambda: len(ended(csms)) == 2)
    await csms.wait_for(lambda: station.online and queued(station) == 0)
    assert await cache_bytes(csms, station) == "0"


async def test_online_answer_for_the_same_token_is_cached_again(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """The exception is only for the offline admission: an online Authorize of the token is
    cached as usual (C10.FR.04).  With AuthCacheCtrlr.DisablePostAuthorize the cached refusal is
    answered from the cache (C10.FR.03), so a second swipe sends no AuthorizeRequest."""
    csms.policy.token_status["STRANGER"] = "Blocked"
    csms.policy.token_status["OTHER"] = "Invalid"
    station = await make_station(
        device_model=SETTINGS | {"AuthCacheCtrlr.DisablePostAuthorize": True}
    )
    await csms.wait_for(lambda: station.online)
    await offline_session(csms, station)
    await csms.start()
    await csms.wait_for(lambda: station.online and queued(station) == 0)
    assert await cache_bytes(csms, station) == "0"  # still C15.FR.01 after the session
    sim(station).present_id_token(1, "STRANGER")
    await csms.wait_received("Authorize")
    # the controller's events are taken one at a time: STRANGER's answer is handled before the
    # next swipe, which the cache answers; OTHER, never cached, is asked for
    sim(station).present_id_token(1, "STRANGER")
    sim(station).present_id_token(1, "OTHER")
    authorize = await csms.wait_received("Authorize", 2)
    assert [a["idToken"] for a in authorize] == [STRANGER, {**STRANGER, "idToken": "OTHER"}]
    assert await cache_bytes(csms, station) != "0"
