"""Smart charging end to end (issue 7; OCPP 2.0.1 K01-K10) through the ``ocpp``-package CSMS.

Every request goes over the loopback websocket from the independent CSMS; the effect is checked on
what the CSMS received (GetChargingProfiles, GetVariables), on the simulated controller (its
``status()``) and in meter values.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from support import StationFactory, everest, installed_profiles, sim, transaction, variable

from ocpp_station import Station
from ocpp_station.clock import iso
from ocpp_station.csms import LocalCSMS

TWO_EVSES = [{"id": 1, "connectors": [1]}, {"id": 2, "connectors": [1]}]


def profile(
    pid: int,
    purpose: str,
    periods: Sequence[tuple[int, float] | dict[str, Any]],
    *,
    stack: int = 0,
    kind: str = "Absolute",
    start: float | None = None,
    unit: str = "A",
    schedule: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A ChargingProfileType; Absolute/Recurring start now unless ``start`` is given."""
    rows = [p if isinstance(p, dict) else {"startPeriod": p[0], "limit": p[1]} for p in periods]
    sched: dict[str, Any] = {"id": pid, "chargingRateUnit": unit, "chargingSchedulePeriod": rows}
    if kind != "Relative":
        sched["startSchedule"] = iso(time.time() if start is None else start)
    sched.update(schedule or {})
    return {
        "id": pid,
        "stackLevel": stack,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": [sched],
        **extra,
    }


async def set_profile(
    csms: LocalCSMS, station: Station, evse: int, prof: dict[str, Any]
) -> dict[str, Any]:
    return await csms.send(
        station.config.id, "SetChargingProfile", {"evseId": evse, "chargingProfile": prof}
    )


async def ready(csms: LocalCSMS, make_station: StationFactory, **kwargs: Any) -> Station:
    station = await make_station(**kwargs)
    await csms.wait_for(lambda: station.online)
    return station


def hal_limit(station: Station, evse: int = 1) -> float:
    status = sim(station).status()
    return float(next(e for e in status["evses"] if e["id"] == evse)["limit_a"])


async def wait_limit(csms: LocalCSMS, station: Station, amps: float, evse: int = 1) -> None:
    await csms.wait_for(lambda: hal_limit(station, evse) == amps, timeout=8)


async def start_charging(csms: LocalCSMS, station: Station, evse: int = 1) -> str:
    """Plug in and present a token: a transaction starts and the EV charges."""
    sim(station).plug_in(evse, 1)
    sim(station).present_id_token(evse, "TOKEN1", "ISO14443")
    running = await csms.wait_for(lambda: transaction(station, evse))
    return str(running["id"])


async def test_each_purpose_accepted_or_rejected(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await ready(csms, make_station)
    accepted = await set_profile(
        csms, station, 0, profile(1, "ChargingStationMaxProfile", [(0, 20)])
    )
    assert accepted["status"] == "Accepted"
    assert (await set_profile(csms, station, 0, profile(2, "TxDefaultProfile", [(0, 16)])))[
        "status"
    ] == "Accepted"
    assert (
        await set_profile(csms, station, 1, profile(3, "TxDefaultProfile", [(0, 10)], stack=1))
    )["status"] == "Accepted"
    # Every refusal is Rejected with a reasonCode and a sentence naming the problem.
    cases: list[tuple[int, dict[str, Any], str, str]] = [
        (1, profile(10, "ChargingStationMaxProfile", [(0, 20)]), "InvalidValue", "EVSE 0"),
        (1, profile(11, "TxProfile", [(0, 8)]), "TxNotFound", "K01.FR.09"),
        (
            0,
            profile(12, "ChargingStationExternalConstraints", [(0, 8)]),
            "InvalidValue",
            "K01.FR.22",
        ),
        (7, profile(13, "TxDefaultProfile", [(0, 8)], stack=2), "UnknownEvse", "K01.FR.28"),
        (0, profile(14, "TxDefaultProfile", [(0, 8)], stack=11), "InvalidStackLevel", "0..10"),
        # K01.FR.53: the same stackLevel as a TxDefaultProfile on EVSE 0.
        (1, profile(15, "TxDefaultProfile", [(0, 8)]), "DuplicateProfile", "K01.FR.53"),
        # K01.FR.52: the same stackLevel as a TxDefaultProfile on EVSE 1.
        (0, profile(16, "TxDefaultProfile", [(0, 8)], stack=1), "DuplicateProfile", "K01.FR.52"),
        (
            0,
            profile(17, "ChargingStationMaxProfile", [(0, 8)], kind="Relative", stack=3),
            "InvalidProfile",
            "K01.FR.38",
        ),
        (0, profile(18, "TxDefaultProfile", [(5, 8)], stack=4), "InvalidSchedule", "K01.FR.31"),
        (
            0,
            profile(19, "TxDefaultProfile", [(0, 8), (60, 6), (30, 4)], stack=4),
            "InvalidSchedule",
            "K01.FR.35",
        ),
        (
            0,
            profile(20, "TxDefaultProfile", [(0, 8)], stack=4, kind="Recurring"),
            "InvalidProfile",
            "recurrencyKind",
        ),
        (
            0,
            profile(21, "TxDefaultProfile", [{"startPeriod": 0, "limit": 8, "phaseToUse": 1}]),
            "InvalidSchedule",
            "K01.FR.19",
        ),
        (
            0,
            profile(
                22,
                "TxDefaultProfile",
                [{"startPeriod": 0, "limit": 8, "numberPhases": 1, "phaseToUse": 2}],
                stack=4,
            ),
            "InvalidSchedule",
            "K01.FR.20",
        ),
        (
            0,
            profile(
                23,
                "TxDefaultProfile",
                [(0, 8)],
                stack=4,
                validFrom=iso(time.time() + 60),
                validTo=iso(time.time()),
            ),
            "InvalidValue",
            "validFrom",
        ),
        (
            0,
            profile(24, "TxDefaultProfile", [(0, 8)], stack=4, kind="Relative", transactionId="x"),
            "InvalidValue",
            "transactionId",
        ),
        (
            0,
            profile(25, "TxDefaultProfile", [(0, 8)], stack=4, schedule={"duration": 0}),
            "InvalidSchedule",
            "duration",
        ),
    ]
    for evse, prof, reason, words in cases:
        result = await set_profile(csms, station, evse, prof)
        assert result["status"] == "Rejected", (prof["id"], result)
        assert result["statusInfo"]["reasonCode"] == reason, (prof["id"], result)
        assert words in result["statusInfo"]["additionalInfo"], (prof["id"], result)
    # Relative and W profiles are fine; a W limit becomes A = W / (230 V * 3 phases) (K01.FR.50).
    relative = profile(30, "TxDefaultProfile", [(0, 4140)], stack=5, kind="Relative", unit="W")
    assert (await set_profile(csms, station, 1, relative))["status"] == "Accepted"
    sid = station.config.id
    assert await installed_profiles(csms, sid, request_id=1) == [1, 2, 3, 30]
    # Entries[ChargingProfiles] counts what is installed.
    entries = await variable(
        csms, sid, "SmartChargingCtrlr", "Entries", instance="ChargingProfiles"
    )
    assert entries == "4"
    await wait_limit(csms, station, 6.0)  # TxDefault stack 5 (4140 W = 6 A) leads


async def test_same_slot_and_same_id_replace(csms: LocalCSMS, make_station: StationFactory) -> None:
    station = await ready(csms, make_station)
    assert (await set_profile(csms, station, 1, profile(1, "TxDefaultProfile", [(0, 16)])))[
        "status"
    ] == "Accepted"
    await wait_limit(csms, station, 16.0)
    # Same id: the new content replaces the old (K01.FR.05).
    assert (await set_profile(csms, station, 1, profile(1, "TxDefaultProfile", [(0, 12)])))[
        "status"
    ] == "Accepted"
    await wait_limit(csms, station, 12.0)
    # Another id in the same purpose + stackLevel slot on the same EVSE replaces it too.
    assert (await set_profile(csms, station, 1, profile(2, "TxDefaultProfile", [(0, 9)])))[
        "status"
    ] == "Accepted"
    assert await installed_profiles(csms, station.config.id, request_id=1) == [2]
    await wait_limit(csms, station, 9.0)


async def test_clear_by_id_and_by_criteria(csms: LocalCSMS, make_station: StationFactory) -> None:
    """K10 as the CSMS sees it.  (That ChargingStationExternalConstraints, which come from a
    local system, are never cleared by the CSMS is shown on the profile store's unit tests: no
    public channel installs one on a running station.)"""
    station = await ready(csms, make_station, evses=TWO_EVSES)
    for evse, prof in [
        (0, profile(1, "ChargingStationMaxProfile", [(0, 40)])),
        (1, profile(2, "TxDefaultProfile", [(0, 10)])),
        (2, profile(3, "TxDefaultProfile", [(0, 11)])),
        (2, profile(4, "TxDefaultProfile", [(0, 12)], stack=1)),
    ]:
        assert (await set_profile(csms, station, evse, prof))["status"] == "Accepted"
    await wait_limit(csms, station, 10.0, evse=1)
    await wait_limit(csms, station, 12.0, evse=2)
    sid = station.config.id

    async def clear(payload: dict[str, Any]) -> str:
        return str((await csms.send(sid, "ClearChargingProfile", payload))["status"])

    assert await clear({"chargingProfileId": 99}) == "Unknown"  # K10.FR.01
    assert await clear({"chargingProfileId": 2}) == "Accepted"  # K10.FR.03
    await wait_limit(csms, station, 20.0, evse=1)  # 40 A station max shared by two EVSEs
    criteria = {"evseId": 2, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 1}
    assert await clear({"chargingProfileCriteria": criteria}) == "Accepted"  # K10.FR.04
    assert await installed_profiles(csms, sid, request_id=1) == [1, 3]
    await wait_limit(csms, station, 11.0, evse=2)
    # Criteria that match the station max clear it; once nothing matches, Unknown.
    on_station = {"chargingProfileCriteria": {"evseId": 0, "stackLevel": 0}}
    assert await clear(on_station) == "Accepted"
    assert await clear(on_station) == "Unknown"
    assert await installed_profiles(csms, sid, request_id=2) == [3]
    await wait_limit(csms, station, 32.0, evse=1)  # no limit left: the EVSE's own maximum
    assert await clear({"chargingProfileCriteria": {"chargingProfilePurpose": "TxProfile"}}) == (
        "Unknown"
    )


async def test_get_composite_schedule(csms: LocalCSMS, make_station: StationFactory) -> None:
    station = await ready(csms, make_station)
    sid = station.config.id
    now = time.time()
    await set_profile(
        csms, station, 0, profile(1, "ChargingStationMaxProfile", [(0, 20)], start=now)
    )
    await set_profile(
        csms, station, 1, profile(2, "TxDefaultProfile", [(0, 16), (60, 25), (90, 10)], start=now)
    )

    async def composite(evse: int, duration: int, unit: str = "A") -> dict[str, Any]:
        request = {"evseId": evse, "duration": duration, "chargingRateUnit": unit}
        return await csms.send(sid, "GetCompositeSchedule", request)

    result = await composite(1, 120)
    assert result["status"] == "Accepted"
    schedule = result["schedule"]
    assert schedule["evseId"] == 1 and schedule["duration"] == 120
    assert schedule["chargingRateUnit"] == "A"
    # K08.FR.04: the lowest of the station max (20 A) and the TxDefaultProfile at every moment.
    periods = [(p["startPeriod"], p["limit"]) for p in schedule["chargingSchedulePeriod"]]
    assert periods == [(0, 16.0), (60, 20.0), (90, 10.0)]
    # In W: A * 230 V * 3 phases.
    watts = (await composite(1, 120, "W"))["schedule"]["chargingSchedulePeriod"]
    assert [(p["startPeriod"], p["limit"]) for p in watts] == [
        (0, 11040.0),
        (60, 13800.0),
        (90, 6900.0),
    ]
    # K08.FR.03: EVSE 0 is the grid connection: the station max only.
    station_wide = (await composite(0, 120))["schedule"]["chargingSchedulePeriod"]
    assert [(p["startPeriod"], p["limit"]) for p in station_wide] == [(0, 20.0)]
    # K08.FR.05: an unknown EVSE is Rejected.
    unknown = await composite(9, 60)
    assert unknown["status"] == "Rejected" and unknown["statusInfo"]["reasonCode"] == "UnknownEvse"
    negative = await composite(1, -5)
    assert negative["status"] == "Rejected"
    assert "duration" in negative["statusInfo"]["additionalInfo"]


async def test_composite_recurring_and_relative(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await ready(csms, make_station)
    now = time.time()
    # Daily, started a day ago less 30 s: now is 30 s before the next cycle begins.
    daily = profile(
        1,
        "TxDefaultProfile",
        [(0, 8), (60, 12)],
        kind="Recurring",
        recurrencyKind="Daily",
        start=now - 86400 + 30,
    )
    assert (await set_profile(csms, station, 1, daily))["status"] == "Accepted"
    # K08.FR.06: without a transaction a Relative profile runs as if one started now.
    relative = profile(2, "TxDefaultProfile", [(0, 32), (100, 6)], kind="Relative", stack=1)
    assert (await set_profile(csms, station, 1, relative))["status"] == "Accepted"
    result = await csms.send(
        station.config.id, "GetCompositeSchedule", {"evseId": 1, "duration": 150}
    )
    periods = [(p["startPeriod"], p["limit"]) for p in result["schedule"]["chargingSchedulePeriod"]]
    # Stack 1 (relative) leads while it has a period; both are TxDefaultProfiles, so the
    # higher stackLevel wins outright (no minimum within one purpose).
    assert periods == [(0, 32.0), (100, 6.0)]
    cleared = await csms.send(station.config.id, "ClearChargingProfile", {"chargingProfileId": 2})
    assert cleared["status"] == "Accepted"
    result = await csms.send(
        station.config.id, "GetCompositeSchedule", {"evseId": 1, "duration": 150}
    )
    periods = [(p["startPeriod"], p["limit"]) for p in result["schedule"]["chargingSchedulePeriod"]]
    assert periods == [(0, 12.0), (30, 8.0), (90, 12.0)]


async def test_get_charging_profiles_reports(csms: LocalCSMS, make_station: StationFactory) -> None:
    station = await ready(
        csms,
        make_station,
        evses=TWO_EVSES,
        device_model={"DeviceDataCtrlr.ItemsPerMessage[GetReport]": 2},
    )
    sid = station.config.id
    for evse, prof in [
        (0, profile(1, "ChargingStationMaxProfile", [(0, 40)])),
        (1, profile(2, "TxDefaultProfile", [(0, 10)], stack=1)),
        (1, profile(3, "TxDefaultProfile", [(0, 11)], stack=2)),
        (1, profile(4, "TxDefaultProfile", [(0, 12)], stack=3)),
        (2, profile(5, "TxDefaultProfile", [(0, 13)], stack=1)),
    ]:
        assert (await set_profile(csms, station, evse, prof))["status"] == "Accepted"

    async def get(payload: dict[str, Any], reports: int) -> tuple[str, list[dict[str, Any]]]:
        before = len(csms.received("ReportChargingProfiles"))
        status = (await csms.send(sid, "GetChargingProfiles", payload))["status"]
        if status != "Accepted":
            return status, []
        got = await csms.wait_received("ReportChargingProfiles", count=before + reports)
        return status, got[before:]

    # K09.FR.06: no evseId: everything matching.  One report per EVSE and limit source, split
    # at ItemsPerMessage; tbc on all but the last (K09.FR.02); requestId on all (K09.FR.01).
    status, reports = await get(
        {"requestId": 7, "chargingProfile": {"chargingProfilePurpose": "TxDefaultProfile"}}, 3
    )
    assert status == "Accepted"
    assert [(r["evseId"], [p["id"] for p in r["chargingProfile"]]) for r in reports] == [
        (1, [2, 3]),
        (1, [4]),
        (2, [5]),
    ]
    assert [r["tbc"] for r in reports] == [True, True, False]
    assert {r["requestId"] for r in reports} == {7}
    assert {r["chargingLimitSource"] for r in reports} == {"CSO"}
    # The profile comes back as it was set.
    assert reports[0]["chargingProfile"][0]["chargingSchedule"][0]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 10}
    ]
    # K09.FR.05: evseId 0 reports only the station's own profiles.
    status, reports = await get(
        {"requestId": 8, "evseId": 0, "chargingProfile": {"stackLevel": 0}}, 1
    )
    assert [(r["evseId"], [p["id"] for p in r["chargingProfile"]]) for r in reports] == [(0, [1])]
    assert reports[0]["tbc"] is False
    # K09.FR.04 with ids: EVSE 1, ids 3 and 5 -> only 3 is on EVSE 1.
    status, reports = await get(
        {"requestId": 9, "evseId": 1, "chargingProfile": {"chargingProfileId": [3, 5]}}, 1
    )
    assert [(r["evseId"], [p["id"] for p in r["chargingProfile"]]) for r in reports] == [(1, [3])]
    # Nothing matches: NoProfiles and no report.
    before = len(csms.received("ReportChargingProfiles"))
    status, _ = await get({"requestId": 10, "chargingProfile": {"stackLevel": 9}}, 0)
    assert status == "NoProfiles"
    assert len(csms.received("ReportChargingProfiles")) == before


async def test_hal_limit_follows_period_boundary(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await ready(csms, make_station)
    published: list[Any] = []

    def listen(topic: str, data: Any) -> None:
        if topic == "charging_schedules":
            published.append(data)

    station.subscribe(everest(listen))
    now = time.time()
    prof = profile(1, "TxDefaultProfile", [(0, 16), (3, 6)], start=now)
    assert (await set_profile(csms, station, 0, prof))["status"] == "Accepted"
    await wait_limit(csms, station, 16.0)
    assert time.time() < now + 3, "the test machine is too slow to see the first period"
    await wait_limit(csms, station, 6.0)
    assert time.time() >= now + 3 - 0.01  # not before the boundary
    # charging_schedules (seed 004): EVSE 0 then EVSE 1, published on each change.
    await csms.wait_for(lambda: len(published) >= 2)
    last = published[-1]["schedules"]
    assert [s["evse"] for s in last] == [0, 1]
    assert last[1]["charging_rate_unit"] == "A"
    assert last[1]["charging_schedule_period"][0]["limit"] == 6.0
    assert station.status()["evses"][0]["limit_amps"] == 6.0


async def test_limit_reflected_in_meter_values(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await ready(
        csms,
        make_station,
        device_model={
            "SampledDataCtrlr.TxUpdatedInterval": 1,
            "SampledDataCtrlr.TxUpdatedMeasurands": "Power.Active.Import",
        },
    )
    assert (await set_profile(csms, station, 1, profile(1, "TxDefaultProfile", [(0, 10)])))[
        "status"
    ] == "Accepted"
    await wait_limit(csms, station, 10.0)
    await start_charging(csms, station)

    def power_values() -> list[float]:
        values = []
        for event in csms.received("TransactionEvent"):
            for mv in event.get("meterValue", []):
                for sv in mv["sampledValue"]:
                    if sv.get("measurand") == "Power.Active.Import" and "phase" not in sv:
                        values.append(float(sv["value"]))
        return values

    # 10 A per phase on 3 phases at 230 V.
    await csms.wait_for(lambda: 6900.0 in power_values(), timeout=8)
    assert max(power_values()) <= 6900.0
    # A lower limit mid-session shows up in the meter values too.
    assert (await set_profile(csms, station, 1, profile(2, "TxDefaultProfile", [(0, 6)], stack=1)))[
        "status"
    ] == "Accepted"
    await csms.wait_for(lambda: 4140.0 in power_values(), timeout=8)


async def test_tx_profile_needs_running_transaction_and_ends_with_it(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await ready(csms, make_station)
    tx_id = await start_charging(csms, station)
    wrong = profile(1, "TxProfile", [(0, 8)], transactionId="not-this-one")
    result = await set_profile(csms, station, 1, wrong)
    assert result["status"] == "Rejected"
    assert result["statusInfo"]["reasonCode"] == "TxNotFound"  # K01.FR.33
    right = profile(1, "TxProfile", [(0, 8)], transactionId=tx_id)
    assert (await set_profile(csms, station, 1, right))["status"] == "Accepted"
    await wait_limit(csms, station, 8.0)
    # The transaction ends: its TxProfile is deleted (K02.FR.05) and the limit returns.
    sim(station).unplug(1)
    await wait_limit(csms, station, 32.0)
    assert await installed_profiles(csms, station.config.id, request_id=1) == []


async def test_remote_start_profile_becomes_tx_profile(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await ready(csms, make_station)
    sid = station.config.id
    bad = profile(5, "TxDefaultProfile", [(0, 8)], kind="Relative")
    start = {"idToken": {"idToken": "APP1", "type": "Central"}, "remoteStartId": 1, "evseId": 1}
    refused = await csms.send(sid, "RequestStartTransaction", {**start, "chargingProfile": bad})
    assert refused["status"] == "Rejected"
    assert refused["statusInfo"]["reasonCode"] == "InvalidProfile"
    tx_profile = profile(5, "TxProfile", [(0, 7)], kind="Relative")
    accepted = await csms.send(
        sid, "RequestStartTransaction", {**start, "chargingProfile": tx_profile}
    )
    assert accepted["status"] == "Accepted"
    sim(station).plug_in(1, 1)
    tx_id = (await csms.wait_for(lambda: transaction(station)))["id"]
    await wait_limit(csms, station, 7.0)
    # The CSMS sees it as a TxProfile of that transaction.
    await csms.send(
        sid,
        "GetChargingProfiles",
        {"requestId": 3, "chargingProfile": {"chargingProfilePurpose": "TxProfile"}},
    )
    report = (await csms.wait_received("ReportChargingProfiles"))[0]
    assert report["evseId"] == 1
    assert report["chargingProfile"][0]["transactionId"] == tx_id
    stopped = await csms.send(sid, "RequestStopTransaction", {"transactionId": tx_id})
    assert stopped["status"] == "Accepted"
    await wait_limit(csms, station, 32.0)
    assert await installed_profiles(csms, sid, request_id=4) == []


async def test_profiles_survive_restart(
    csms: LocalCSMS, make_station: StationFactory, short_tmp: Any
) -> None:
    data_dir = short_tmp / "persist"
    station = await ready(csms, make_station, station_id="CS001", data_dir=data_dir)
    await set_profile(csms, station, 0, profile(1, "ChargingStationMaxProfile", [(0, 25)]))
    await set_profile(csms, station, 1, profile(2, "TxDefaultProfile", [(0, 14)], stack=2))
    await wait_limit(csms, station, 14.0)
    tx_id = await start_charging(csms, station)
    tx_profile = profile(3, "TxProfile", [(0, 9)], transactionId=tx_id)
    assert (await set_profile(csms, station, 1, tx_profile))["status"] == "Accepted"
    await wait_limit(csms, station, 9.0)
    await station.stop()  # a power loss mid-transaction: the transaction ends at the next start
    again = await make_station(station_id="CS001", data_dir=data_dir)
    await wait_limit(csms, again, 14.0)  # applied from the stored profiles at start
    await csms.wait_for(lambda: again.online)
    await csms.send(
        again.config.id,
        "GetChargingProfiles",
        {"requestId": 1, "chargingProfile": {"stackLevel": 0}},
    )
    await csms.send(
        again.config.id,
        "GetChargingProfiles",
        {"requestId": 2, "chargingProfile": {"stackLevel": 2}},
    )
    reports = await csms.wait_received("ReportChargingProfiles", count=2)
    assert sorted(p["id"] for r in reports for p in r["chargingProfile"]) == [1, 2]
    entries = await variable(
        csms, again.config.id, "SmartChargingCtrlr", "Entries", instance="ChargingProfiles"
    )
    assert entries == "2"


async def test_remote_start_profile_dropped_when_authorization_expires(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await ready(csms, make_station, device_model={"TxCtrlr.EVConnectionTimeOut": 1})
    sid = station.config.id
    request = {
        "idToken": {"idToken": "APP1", "type": "Central"},
        "remoteStartId": 4,
        "evseId": 1,
        "chargingProfile": profile(6, "TxProfile", [(0, 5)], kind="Relative"),
    }
    assert (await csms.send(sid, "RequestStartTransaction", request))["status"] == "Accepted"
    # Nobody plugs in: the authorization times out (EVConnectionTimeOut, 1 s; nothing tells the
    # CSMS, so wait it out with a margin) and the waiting TxProfile goes with it...
    await asyncio.sleep(2.0)
    # ...so the next driver's transaction is not the remote start's, nor limited by its profile.
    await start_charging(csms, station)
    started = await csms.wait_for(
        lambda: [e for e in csms.received("TransactionEvent") if e["eventType"] == "Started"]
    )
    assert started[0]["triggerReason"] == "Authorized"
    assert started[0]["idToken"]["idToken"] == "TOKEN1"
    assert "remoteStartId" not in started[0]["transactionInfo"]
    await csms.wait_for(
        lambda: any(
            e["transactionInfo"].get("chargingState") == "Charging"
            for e in csms.received("TransactionEvent")
        )
    )
    await wait_limit(csms, station, 32.0)
    assert await installed_profiles(csms, sid, request_id=1) == []
