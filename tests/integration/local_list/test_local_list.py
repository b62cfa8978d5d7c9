"""Local authorization list management (D01, D02) and authorization with the list (C13, C14)
against the independent CSMS (``ocpp`` package) with the sim backend."""

from __future__ import annotations

from typing import Any

from support import StationFactory, sim, transaction, variable

from ocpp_station import Station
from ocpp_station.csms import LocalCSMS

ALICE = {"idToken": "ALICE", "type": "ISO14443"}
BLOCKY = {"idToken": "BLOCKY", "type": "ISO14443"}
OLD = {"idToken": "OLD", "type": "ISO14443"}
SETTINGS = {"SampledDataCtrlr.TxUpdatedInterval": 0, "AlignedDataCtrlr.Interval": 0}


def entry(token: dict[str, Any], status: str | None = "Accepted") -> dict[str, Any]:
    if status is None:
        return {"idToken": token}
    return {"idToken": token, "idTokenInfo": {"status": status}}


async def send_list(
    csms: LocalCSMS, sid: str, update: str, version: int, *items: dict[str, Any]
) -> dict[str, Any]:
    payload: dict[str, Any] = {"updateType": update, "versionNumber": version}
    if items:
        payload["localAuthorizationList"] = list(items)
    return await csms.send(sid, "SendLocalList", payload)


async def version(csms: LocalCSMS, sid: str) -> int:
    return int((await csms.send(sid, "GetLocalListVersion", {}))["versionNumber"])


async def booted(csms: LocalCSMS, make_station: StationFactory, **settings: Any) -> Station:
    station = await make_station(device_model={**SETTINGS, **settings})
    await csms.wait_for(lambda: station.online)
    return station


async def test_version_rules(csms: LocalCSMS, make_station: StationFactory) -> None:
    """D02.FR.02, D01.FR.15/16/17/19/05/04 one after the other, with Entries live (D01.FR.12)."""
    station = await booted(csms, make_station)
    sid = station.config.id
    assert await version(csms, sid) == 0  # D02.FR.02: never sent
    assert await variable(csms, sid, "LocalAuthListCtrlr", "Entries") == "0"

    full = await send_list(csms, sid, "Full", 3, entry(ALICE), entry(OLD), entry(BLOCKY, "Blocked"))
    assert full == {"status": "Accepted"}
    assert await version(csms, sid) == 3
    assert await variable(csms, sid, "LocalAuthListCtrlr", "Entries") == "3"

    for stale in (2, 3):  # D01.FR.19: not greater than the installed version
        answer = await send_list(csms, sid, "Differential", stale, entry(ALICE, "Blocked"))
        assert answer["status"] == "VersionMismatch"
    assert await version(csms, sid) == 3

    diff = await send_list(csms, sid, "Differential", 4, entry(OLD, None), entry(ALICE, "Expired"))
    assert diff == {"status": "Accepted"}  # D01.FR.16/17
    assert await version(csms, sid) == 4
    assert await variable(csms, sid, "LocalAuthListCtrlr", "Entries") == "2"

    assert await send_list(csms, sid, "Differential", 9) == {"status": "Accepted"}  # D01.FR.05
    assert await version(csms, sid) == 9
    assert await variable(csms, sid, "LocalAuthListCtrlr", "Entries") == "2"

    assert (await send_list(csms, sid, "Full", 1))["status"] == "Accepted"  # D01.FR.04
    assert await version(csms, sid) == 1  # an emptied list keeps a version (D02 remark)
    assert await variable(csms, sid, "LocalAuthListCtrlr", "Entries") == "0"

    zero = await send_list(csms, sid, "Full", 0, entry(ALICE))  # D01.FR.18
    assert zero["status"] == "Failed"
    twice = await send_list(csms, sid, "Full", 5, entry(ALICE), entry(ALICE, "Blocked"))
    assert twice["status"] == "Failed"  # D01.FR.06
    assert await version(csms, sid) == 1


async def test_message_and_list_limits(csms: LocalCSMS, make_station: StationFactory) -> None:
    """D01.FR.11 (ItemsPerMessage 250, BytesPerMessage 65000) and the Entries maxLimit (10000):
    a refused update changes neither the list nor its version."""
    station = await booted(csms, make_station)
    sid = station.config.id
    assert await variable(csms, sid, "LocalAuthListCtrlr", "ItemsPerMessage") == "250"
    assert await variable(csms, sid, "LocalAuthListCtrlr", "BytesPerMessage") == "65000"

    def tokens(start: int, count: int) -> list[dict[str, Any]]:
        return [
            entry({"idToken": f"T{i:05d}", "type": "ISO14443"}) for i in range(start, start + count)
        ]

    many = await send_list(csms, sid, "Full", 1, *tokens(0, 251))
    assert many["status"] == "Failed"
    assert many["statusInfo"]["reasonCode"] == "TooManyElements"
    message = {"format": "ASCII", "content": "x" * 500}
    big = [
        {"idToken": t["idToken"], "idTokenInfo": {"status": "Accepted", "personalMessage": message}}
        for t in tokens(0, 140)
    ]
    large = await send_list(csms, sid, "Full", 1, *big)
    assert (large["status"], large["statusInfo"]["reasonCode"]) == ("Failed", "TooLargeElement")
    assert await version(csms, sid) == 0

    assert (await send_list(csms, sid, "Full", 1, *tokens(0, 250)))["status"] == "Accepted"
    for n in range(1, 40):  # 40 x 250 = 10000 entries: the most the list holds
        answer = await send_list(csms, sid, "Differential", n + 1, *tokens(n * 250, 250))
        assert answer == {"status": "Accepted"}, n
    assert await variable(csms, sid, "LocalAuthListCtrlr", "Entries") == "10000"
    over = await send_list(csms, sid, "Differential", 100, *tokens(10000, 1))
    assert (over["status"], over["statusInfo"]["reasonCode"]) == ("Failed", "TooManyElements")
    assert await version(csms, sid) == 40
    assert await variable(csms, sid, "LocalAuthListCtrlr", "Entries") == "10000"


async def test_disabled_list(csms: LocalCSMS, make_station: StationFactory) -> None:
    """D02.FR.03: a disabled list reports version 0 and takes no update; enabled again, the
    kept list is back (D01.FR.09: nothing but SendLocalList changes it)."""
    station = await booted(csms, make_station)
    sid = station.config.id
    assert (await send_list(csms, sid, "Full", 6, entry(ALICE)))["status"] == "Accepted"
    await set_enabled(csms, sid, False)
    assert await version(csms, sid) == 0
    refused = await send_list(csms, sid, "Full", 7, entry(BLOCKY))
    assert (refused["status"], refused["statusInfo"]["reasonCode"]) == ("Failed", "NotEnabled")
    await set_enabled(csms, sid, True)
    assert await version(csms, sid) == 6


async def set_enabled(csms: LocalCSMS, sid: str, value: bool) -> None:
    result = await csms.send(
        sid,
        "SetVariables",
        {
            "setVariableData": [
                {
                    "component": {"name": "LocalAuthListCtrlr"},
                    "variable": {"name": "Enabled"},
                    "attributeValue": "true" if value else "false",
                }
            ]
        },
    )
    assert result["setVariableResult"][0]["attributeStatus"] == "Accepted"


async def test_list_survives_a_restart(csms: LocalCSMS, make_station: StationFactory) -> None:
    """D01.FR.10: the list and its version are kept in the station store."""
    station = await booted(csms, make_station)
    sid = station.config.id
    assert (await send_list(csms, sid, "Full", 11, entry(ALICE), entry(OLD)))[
        "status"
    ] == "Accepted"
    result = await csms.send(sid, "Reset", {"type": "Immediate"})
    assert result["status"] == "Accepted"
    await csms.wait_received("BootNotification", count=2, station=sid, timeout=15)
    await csms.wait_for(lambda: station.online)
    assert await version(csms, sid) == 11
    assert await variable(csms, sid, "LocalAuthListCtrlr", "Entries") == "2"


async def test_offline_listed_tokens(csms: LocalCSMS, make_station: StationFactory) -> None:
    """C13.FR.02 with the CSMS unreachable: a listed Blocked token starts nothing, a listed
    Accepted one starts a transaction, decided by the list without an Authorize.  The CSMS
    would answer Accepted for the Blocked one: the station never asks it."""
    station = await booted(csms, make_station)
    sid = station.config.id
    listed = await send_list(csms, sid, "Full", 1, entry(ALICE), entry(BLOCKY, "Blocked"))
    assert listed["status"] == "Accepted"
    await csms.stop()
    await csms.wait_for(lambda: not station.connected)
    sim(station).plug_in(1, 1)
    sim(station).present_id_token(1, "BLOCKY")
    sim(station).present_id_token(1, "ALICE")
    await csms.wait_for(lambda: sim(station).model.status()["evses"][0]["power_w"] > 0)
    tx = transaction(station)
    assert tx is not None
    await csms.start()
    await csms.wait_for(lambda: csms.received("TransactionEvent", sid))
    events = csms.received("TransactionEvent", sid)
    assert events[0]["eventType"] == "Started" and events[0]["offline"] is True
    assert [e["idToken"] for e in events if "idToken" in e] == [ALICE]
    assert csms.received("Authorize", sid) == []


async def test_offline_blocked_token_starts_nothing(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """C13.FR.02 / C13.FR.04: a listed Blocked token stays refused offline even with
    OfflineTxForUnknownIdEnabled (it is not unknown), while an unlisted one is let in."""
    station = await booted(csms, make_station, **{"AuthCtrlr.OfflineTxForUnknownIdEnabled": True})
    sid = station.config.id
    assert (await send_list(csms, sid, "Full", 1, entry(BLOCKY, "Blocked")))["status"] == "Accepted"
    await csms.stop()
    await csms.wait_for(lambda: not station.connected)
    sim(station).plug_in(1, 1)
    sim(station).present_id_token(1, "BLOCKY")
    sim(station).present_id_token(1, "STRANGER")
    await csms.wait_for(lambda: transaction(station) is not None)
    await csms.start()
    await csms.wait_for(lambda: csms.received("TransactionEvent", sid))
    tokens = [
        e["idToken"]["idToken"] for e in csms.received("TransactionEvent", sid) if "idToken" in e
    ]
    assert tokens == ["STRANGER"]


async def test_local_pre_authorize_starts_without_authorize(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """C14.FR.02: online with LocalPreAuthorize, a listed Accepted token starts at once; the
    list's group id comes with it.  A listed Blocked token is sent to the CSMS (C14.FR.03)."""
    csms.policy.token_status["BLOCKY"] = "Invalid"
    station = await booted(csms, make_station, **{"AuthCtrlr.LocalPreAuthorize": True})
    sid = station.config.id
    group = {"idToken": "FLEET", "type": "Central"}
    items = [
        {"idToken": ALICE, "idTokenInfo": {"status": "Accepted", "groupIdToken": group}},
        entry(BLOCKY, "Blocked"),
    ]
    assert (await send_list(csms, sid, "Full", 1, *items))["status"] == "Accepted"
    sim(station).plug_in(1, 1)
    sim(station).present_id_token(1, "BLOCKY")
    (asked,) = await csms.wait_received("Authorize", station=sid)
    assert asked["idToken"] == BLOCKY
    sim(station).present_id_token(1, "ALICE")
    started = await csms.wait_for(
        lambda: [e for e in csms.received("TransactionEvent", sid) if e["eventType"] == "Started"]
    )
    assert started[0]["idToken"] == ALICE
    assert [a["idToken"] for a in csms.received("Authorize", sid)] == [BLOCKY]


async def test_list_wins_over_the_cache(csms: LocalCSMS, make_station: StationFactory) -> None:
    """C13.FR.01: a token the cache holds as Accepted (from an online Authorize) but the list
    holds as Blocked is refused offline; the listed Accepted token after it starts."""
    station = await booted(csms, make_station)
    sid = station.config.id
    sim(station).plug_in(1, 1)
    sim(station).present_id_token(1, "BLOCKY")  # Authorize: Accepted, and cached
    await csms.wait_received("TransactionEvent", station=sid)
    assert await variable(csms, sid, "AuthCacheCtrlr", "Storage") != "0"
    sim(station).unplug(1)
    await csms.wait_for(lambda: transaction(station) is None)
    before = len(csms.received("TransactionEvent", sid))
    items = [entry(BLOCKY, "Blocked"), entry(ALICE)]
    assert (await send_list(csms, sid, "Full", 2, *items))["status"] == "Accepted"
    await csms.stop()
    await csms.wait_for(lambda: not station.connected)
    sim(station).plug_in(1, 1)
    sim(station).present_id_token(1, "BLOCKY")
    sim(station).present_id_token(1, "ALICE")
    await csms.wait_for(lambda: transaction(station) is not None)
    await csms.start()
    await csms.wait_for(lambda: station.online and int(station.status()["queued_messages"]) == 0)
    events = csms.received("TransactionEvent", sid)[before:]
    assert [e["idToken"] for e in events if "idToken" in e] == [ALICE]


async def test_disable_post_authorize_of_the_list(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """C14.FR.03: online, a listed token that is not Accepted is authorized again with the CSMS;
    LocalAuthListCtrlr.DisablePostAuthorize true switches that off: refused from the list."""
    station = await booted(csms, make_station)
    sid = station.config.id
    assert (await send_list(csms, sid, "Full", 1, entry(BLOCKY, "Blocked")))["status"] == (
        "Accepted"
    )
    sim(station).present_id_token(1, "BLOCKY")
    await csms.wait_received("Authorize", station=sid)  # asked again: the CSMS may know better
    answer = await csms.send(
        sid,
        "SetVariables",
        {
            "setVariableData": [
                {
                    "component": {"name": "LocalAuthListCtrlr"},
                    "variable": {"name": "DisablePostAuthorize"},
                    "attributeValue": "true",
                }
            ]
        },
    )
    assert answer["setVariableResult"][0]["attributeStatus"] == "Accepted"
    sim(station).present_id_token(1, "BLOCKY")
    sim(station).plug_in(1, 1)  # handled after the swipe: the swipe is decided by then
    await csms.wait_for(
        lambda: any(
            s["connectorStatus"] == "Occupied" for s in csms.received("StatusNotification", sid)
        )
    )
    assert len(csms.received("Authorize", sid)) == 1  # refused from the list, nobody asked
    assert transaction(station) is None
