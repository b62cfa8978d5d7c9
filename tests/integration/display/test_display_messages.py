"""Display messages (O01-O06) against the ``ocpp``-package CSMS with the sim backend: what the
CSMS sets is answered, reported, cleared and shown on the simulated display, in ``status()`` and
in the ``display_messages`` publication."""

from __future__ import annotations

import time
from typing import Any

from support import StationFactory, everest, sim

from ocpp_station import Station
from ocpp_station.clock import iso
from ocpp_station.csms import LocalCSMS

SETTINGS = {"SampledDataCtrlr.TxUpdatedInterval": 0, "AlignedDataCtrlr.Interval": 0}


def message(mid: int, text: str = "hello", priority: str = "NormalCycle", **more: Any) -> dict:
    content = {"format": more.pop("fmt", "UTF8"), "content": text}
    if "language" in more:
        content["language"] = more.pop("language")
    return {"id": mid, "priority": priority, "message": content, **more}


async def booted(csms: LocalCSMS, make_station: StationFactory, **settings: Any) -> Station:
    station = await make_station(device_model={**SETTINGS, **settings})
    await csms.wait_received("StatusNotification", count=1, station=station.config.id)
    return station


async def set_message(csms: LocalCSMS, sid: str, msg: dict[str, Any]) -> dict[str, Any]:
    return await csms.send(sid, "SetDisplayMessage", {"message": msg})


def shown(station: Station) -> list[Any]:
    return [line["content"] for line in sim(station).display.lines]


async def test_set_shows_replaces_and_clears_o01_o05_o06(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """O01: an accepted message is shown (priority order: AlwaysFront first); O06: the same id
    replaces it; O05: ClearDisplayMessage removes it, Unknown for an id not configured.  The sim
    display, ``status()["display"]`` and the ``display_messages`` publication agree."""
    station = await booted(csms, make_station)
    sid = station.config.id
    published: list[Any] = []
    station.subscribe(
        everest(lambda t, d: published.append(d) if t == "display_messages" else None)
    )
    assert await set_message(csms, sid, message(1, "normal", language="en")) == {
        "status": "Accepted"
    }
    assert await set_message(csms, sid, message(2, "urgent", "AlwaysFront")) == {
        "status": "Accepted"
    }
    await csms.wait_for(lambda: shown(station) == ["urgent", "normal"])
    assert sim(station).display.lines[1] == {
        "id": 1,
        "source": "DisplayMessage",
        "priority": "NormalCycle",
        "format": "UTF8",
        "language": "en",
        "content": "normal",
    }
    assert [line["content"] for line in station.status()["display"]] == ["urgent", "normal"]
    assert [line["content"] for line in published[-1]["lines"]] == ["urgent", "normal"]
    # O06: replaced in place
    assert (await set_message(csms, sid, message(1, "changed")))["status"] == "Accepted"
    await csms.wait_for(lambda: shown(station) == ["urgent", "changed"])
    assert await csms.send(sid, "ClearDisplayMessage", {"id": 2}) == {"status": "Accepted"}
    await csms.wait_for(lambda: shown(station) == ["changed"])
    assert await csms.send(sid, "ClearDisplayMessage", {"id": 2}) == {"status": "Unknown"}
    assert station.config and published[-1]["lines"][0]["content"] == "changed"


async def test_refusal_statuses_o01(csms: LocalCSMS, make_station: StationFactory) -> None:
    """Every refusal SetDisplayMessage names: NotSupportedMessageFormat (HTML is not in
    SupportedFormats), NotSupportedPriority (SupportedPriorities set without InFront),
    NotSupportedState (Faulted), UnknownTransaction (O02: no such transaction), Rejected (a
    display component, a window ending before it starts, DisplayMessageCtrlr.Enabled false)."""
    station = await booted(
        csms, make_station, **{"DisplayMessageCtrlr.SupportedPriorities": "AlwaysFront,NormalCycle"}
    )
    sid = station.config.id
    cases = [
        (message(1, fmt="HTML"), "NotSupportedMessageFormat", "UnsupportedParam"),
        (message(2, priority="InFront"), "NotSupportedPriority", "UnsupportedParam"),
        (message(3, state="Faulted"), "NotSupportedState", "UnsupportedParam"),
        (message(4, transactionId="nope"), "UnknownTransaction", "TxNotFound"),
        (
            message(5, display={"name": "Display", "instance": "rear"}),
            "Rejected",
            "UnsupportedParam",
        ),
        (
            message(6, startDateTime=iso(time.time() + 60), endDateTime=iso(time.time())),
            "Rejected",
            "InvalidValue",
        ),
    ]
    for msg, status, reason in cases:
        answer = await set_message(csms, sid, msg)
        assert answer["status"] == status, msg
        assert answer["statusInfo"]["reasonCode"] == reason
    assert await csms.send(sid, "GetDisplayMessages", {"requestId": 1}) == {"status": "Unknown"}
    assert shown(station) == []
    # DisplayMessageCtrlr.Enabled false: Rejected; true again: Accepted
    for enabled, status in (("false", "Rejected"), ("true", "Accepted")):
        item = {
            "component": {"name": "DisplayMessageCtrlr"},
            "variable": {"name": "Enabled"},
            "attributeValue": enabled,
        }
        result = await csms.send(sid, "SetVariables", {"setVariableData": [item]})
        assert result["setVariableResult"][0]["attributeStatus"] == "Accepted"
        assert (await set_message(csms, sid, message(7)))["status"] == status


async def test_get_reports_in_parts_with_filters_o03_o04(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """O03: GetDisplayMessages without filter: Accepted, then every message in
    NotifyDisplayMessages parts (at most 10 per part, tbc on all but the last, the requestId);
    O04: with ids / priority / state only those; nothing matching: Unknown."""
    station = await booted(csms, make_station)
    sid = station.config.id
    for mid in range(1, 13):
        priority = "InFront" if mid % 2 else "NormalCycle"
        assert (await set_message(csms, sid, message(mid, f"m{mid}", priority)))[
            "status"
        ] == "Accepted"
    assert await csms.send(sid, "GetDisplayMessages", {"requestId": 5}) == {"status": "Accepted"}
    parts = await csms.wait_received("NotifyDisplayMessages", count=2, station=sid)
    assert [(p["requestId"], p.get("tbc", False), len(p["messageInfo"])) for p in parts] == [
        (5, True, 10),
        (5, False, 2),
    ]
    assert [m["id"] for p in parts for m in p["messageInfo"]] == list(range(1, 13))
    assert parts[0]["messageInfo"][0] == message(1, "m1", "InFront")
    answer = await csms.send(
        sid, "GetDisplayMessages", {"requestId": 6, "id": [2, 3, 4], "priority": "NormalCycle"}
    )
    assert answer == {"status": "Accepted"}
    parts = await csms.wait_received("NotifyDisplayMessages", count=3, station=sid)
    assert [m["id"] for m in parts[2]["messageInfo"]] == [2, 4]
    assert parts[2]["requestId"] == 6
    answer = await csms.send(sid, "GetDisplayMessages", {"requestId": 7, "state": "Charging"})
    assert answer == {"status": "Unknown"}


async def test_messages_persist_over_a_restart(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """The configured messages are kept in the station store: shown again after a restart, and
    DisplayMessageCtrlr.DisplayMessages counts them."""
    station = await booted(csms, make_station)
    sid = station.config.id
    assert (await set_message(csms, sid, message(9, "kept")))["status"] == "Accepted"
    await csms.wait_for(lambda: shown(station) == ["kept"])
    await station.stop()
    again = await make_station(station_id=sid, device_model=SETTINGS)
    await csms.wait_for(lambda: [x["content"] for x in again.status()["display"]] == ["kept"])
    assert again.dm.get("DisplayMessageCtrlr", "DisplayMessages") == "1"


async def test_state_and_transaction_bound_message_o02(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """A message for state Charging is shown only while a transaction runs, one for Idle only
    without; O02: a message bound to a running transaction is Accepted, shown, and removed when
    the transaction ends (GetDisplayMessages no longer finds it)."""
    station = await booted(csms, make_station)
    sid = station.config.id
    assert (await set_message(csms, sid, message(1, "idle", state="Idle")))["status"] == "Accepted"
    assert (await set_message(csms, sid, message(2, "charging", state="Charging")))[
        "status"
    ] == "Accepted"
    await csms.wait_for(lambda: shown(station) == ["idle"])
    sim(station).plug_in(1, 1)
    sim(station).present_id_token(1, "ALICE")
    started = await csms.wait_for(
        lambda: [e for e in csms.received("TransactionEvent", sid) if e["eventType"] == "Started"]
    )
    tx = started[0]["transactionInfo"]["transactionId"]
    await csms.wait_for(lambda: shown(station) == ["charging"])
    answer = await set_message(csms, sid, message(3, "yours", "InFront", transactionId=tx))
    assert answer == {"status": "Accepted"}
    await csms.wait_for(lambda: shown(station) == ["yours", "charging"])
    assert sim(station).display.lines[0]["transactionId"] == tx
    sim(station).unplug(1)
    await csms.wait_for(
        lambda: any(e["eventType"] == "Ended" for e in csms.received("TransactionEvent", sid))
    )
    await csms.wait_for(lambda: shown(station) == ["idle"])
    assert await csms.send(sid, "GetDisplayMessages", {"requestId": 1, "id": [3]}) == {
        "status": "Unknown"
    }
