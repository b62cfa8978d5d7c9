"""Offline behaviour of an idle station through the CSMS (issue 14; OCPP 2.0.1 B04):
after an outage longer than ``OCPPCommCtrlr.OfflineThreshold`` a StatusNotification for every
connector (B04.FR.01); after a shorter one only for the connectors that changed (B04.FR.02).

The outage is held open by the CSMS refusing the station's credentials, so the test decides when
it ends; a critical security event raised while offline is queued, and the queue is sent only
after the reconnect's StatusNotifications, so its arrival marks the end of that round.
"""

from __future__ import annotations

from support import PASSWORD, StationFactory, sim

from ocpp_station import Station
from ocpp_station.csms import LocalCSMS

HEARTBEAT_INTERVAL = {
    "component": {"name": "OCPPCommCtrlr"},
    "variable": {"name": "HeartbeatInterval"},
}
TWO_EVSES = [{"id": 1, "connectors": [1]}, {"id": 2, "connectors": [1]}]


def statuses(csms: LocalCSMS, sid: str) -> list[tuple[int, int, str]]:
    return [
        (s["evseId"], s["connectorId"], s["connectorStatus"])
        for s in csms.received("StatusNotification", sid)
    ]


async def reconnect_after_outage(csms: LocalCSMS, station: Station, while_offline: object) -> int:
    """Cut the connection, keep it down while ``while_offline()`` runs, let it back; return the
    number of StatusNotifications before the outage once the reconnect round is over."""
    sid = station.config.id
    await csms.wait_received("StatusNotification", count=2, station=sid)
    # The start's own event (StartupOfTheDevice, queued) arrives after those: counted before
    # the cut, so the round below ends with the event raised while offline.
    await csms.wait_received("SecurityEventNotification", station=sid)
    # A round trip, so the station has read the CSMS's answers to those before the cut.
    await csms.send(sid, "GetVariables", {"getVariableData": [HEARTBEAT_INTERVAL]})
    before = len(statuses(csms, sid))
    events = len(csms.received("SecurityEventNotification", sid))
    csms.policy.passwords = {sid: "not-the-password-0000"}  # reconnects are refused for now
    await csms.drop(sid)
    await csms.wait_for(lambda: not station.connected)
    assert callable(while_offline)
    await while_offline()
    await station.raise_security_event("TamperDetectionActivated")  # queued: critical
    csms.policy.passwords = {sid: PASSWORD}
    await csms.wait_received("SecurityEventNotification", events + 1, station=sid, timeout=20)
    return before


async def test_long_outage_reports_every_connector_b04_fr_01(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await make_station(
        evses=TWO_EVSES, device_model={"OCPPCommCtrlr.OfflineThreshold": 0}
    )
    sid = station.config.id

    async def nothing_changes() -> None:
        return None

    before = await reconnect_after_outage(csms, station, nothing_changes)
    assert statuses(csms, sid)[before:] == [(1, 1, "Available"), (2, 1, "Available")]


async def test_short_outage_reports_only_what_changed_b04_fr_02(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await make_station(
        evses=TWO_EVSES, device_model={"OCPPCommCtrlr.OfflineThreshold": 3600}
    )
    sid = station.config.id

    async def plug_evse_1() -> None:
        sim(station).plug_in(1, 1)
        await csms.wait_for(
            lambda: station.status()["evses"][0]["connectors"][0]["status"] == "Occupied"
        )

    before = await reconnect_after_outage(csms, station, plug_evse_1)
    assert statuses(csms, sid)[before:] == [(1, 1, "Occupied")]


async def test_offline_threshold_set_by_the_csms_takes_effect(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """The default (600 s) reports nothing unchanged after a short outage; SetVariables
    OfflineThreshold = 0 makes the next reconnect report every connector."""
    station = await make_station(evses=TWO_EVSES)
    sid = station.config.id

    async def nothing_changes() -> None:
        return None

    before = await reconnect_after_outage(csms, station, nothing_changes)
    assert statuses(csms, sid)[before:] == []
    answer = await csms.send(
        sid,
        "SetVariables",
        {
            "setVariableData": [
                {
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "OfflineThreshold"},
                    "attributeValue": "0",
                }
            ]
        },
    )
    assert answer["setVariableResult"][0]["attributeStatus"] == "Accepted"
    before = await reconnect_after_outage(csms, station, nothing_changes)
    assert statuses(csms, sid)[before:] == [(1, 1, "Available"), (2, 1, "Available")]
