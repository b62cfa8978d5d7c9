"""DataTransfer (functional block P) through the independent CSMS and the embedding API.

P01: the station answers every well-formed DataTransfer with a DataTransferResponse, never a
CALLERROR: ``UnknownVendorId`` (P01.FR.05), ``UnknownMessageId`` (P01.FR.06), or what the handler
the integrator registered answers (P01.FR.07), ``Rejected`` with a statusInfo when it fails.
P02: ``station.data_transfer`` sends one to the CSMS and returns its DataTransferResponse.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from support import NotReady, OCPPError, StationFactory

from ocpp_station import Station
from ocpp_station.csms import LocalCSMS


async def online(csms: LocalCSMS, station: Station) -> str:
    await csms.wait_for(lambda: station.online and station.config.id in csms.links)
    return station.config.id


async def test_unknown_vendor_and_unknown_message_id_p01_fr_05_06(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await make_station()
    sid = await online(csms, station)
    assert await csms.send(sid, "DataTransfer", {"vendorId": "com.nobody"}) == {
        "status": "UnknownVendorId"
    }
    station.register_data_transfer("com.example", lambda r: {"status": "Accepted"}, "ping")
    answer = await csms.send(sid, "DataTransfer", {"vendorId": "com.example", "messageId": "pong"})
    assert answer == {"status": "UnknownMessageId"}
    answer = await csms.send(sid, "DataTransfer", {"vendorId": "com.example", "messageId": "ping"})
    assert answer == {"status": "Accepted"}


async def test_registered_handler_answers_with_its_data_p01_fr_07(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """A handler registered before start() answers; it gets the request as the CSMS sent it."""
    seen: list[dict[str, Any]] = []

    async def echo(request: dict[str, Any]) -> dict[str, Any]:
        seen.append(request)
        await asyncio.sleep(0)
        return {"status": "Accepted", "data": {"echo": request.get("data")}}

    station = await make_station(start=False)
    unregister = station.register_data_transfer("com.example", echo)
    await station.start()
    sid = await online(csms, station)
    request = {"vendorId": "com.example", "messageId": "any", "data": {"n": [1, 2]}}
    answer = await csms.send(sid, "DataTransfer", request)
    assert answer == {"status": "Accepted", "data": {"echo": {"n": [1, 2]}}}
    assert seen == [request]
    answer = await csms.send(sid, "DataTransfer", {"vendorId": "com.example"})  # no messageId
    assert answer["status"] == "Accepted"
    unregister()
    assert (await csms.send(sid, "DataTransfer", {"vendorId": "com.example"}))[
        "status"
    ] == "UnknownVendorId"


async def test_failing_or_invalid_handler_gives_rejected_never_a_callerror(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    def boom(request: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("vendor code on fire")

    station = await make_station()
    station.register_data_transfer("com.example", boom, "boom")
    station.register_data_transfer("com.example", lambda r: {"status": "Great"}, "bad")
    sid = await online(csms, station)
    answer = await csms.send(sid, "DataTransfer", {"vendorId": "com.example", "messageId": "boom"})
    assert answer["status"] == "Rejected"
    assert answer["statusInfo"]["reasonCode"] == "InternalError"
    assert "RuntimeError" in answer["statusInfo"]["additionalInfo"]
    assert "on fire" not in answer["statusInfo"]["additionalInfo"]
    answer = await csms.send(sid, "DataTransfer", {"vendorId": "com.example", "messageId": "bad"})
    assert answer["status"] == "Rejected"
    assert answer["statusInfo"]["reasonCode"] == "InternalError"
    assert station.connected and station.online  # the station carries on


async def test_registrations_survive_a_reset(csms: LocalCSMS, make_station: StationFactory) -> None:
    station = await make_station()
    station.register_data_transfer("com.example", lambda r: {"status": "Accepted"})
    sid = await online(csms, station)
    assert (await csms.send(sid, "Reset", {"type": "Immediate"}))["status"] == "Accepted"
    await csms.wait_received("BootNotification", count=2)
    await online(csms, station)
    assert (await csms.send(sid, "DataTransfer", {"vendorId": "com.example"}))[
        "status"
    ] == "Accepted"


async def test_station_sends_data_transfer_to_the_csms_p02(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    csms.policy.data_transfer["com.csms"] = {"status": "Accepted", "data": {"price": 0.3}}
    station = await make_station()
    await online(csms, station)
    answer = await station.data_transfer("com.csms", "tariff", {"evse": 1})
    assert answer == {"status": "Accepted", "data": {"price": 0.3}}
    assert csms.received("DataTransfer")[-1] == {
        "vendorId": "com.csms",
        "messageId": "tariff",
        "data": {"evse": 1},
    }
    # P02.FR.06: the CSMS has no implementation for this vendor
    assert await station.data_transfer("com.unknown") == {"status": "UnknownVendorId"}
    assert csms.received("DataTransfer")[-1] == {"vendorId": "com.unknown"}


async def test_p02_failures_raise(csms: LocalCSMS, make_station: StationFactory) -> None:
    station = await make_station(start=False)
    with pytest.raises(NotReady):
        await station.data_transfer("com.csms")  # not started
    await station.start()
    await online(csms, station)
    with pytest.raises(ValueError):
        await station.data_transfer("v" * 256)
    csms.policy.errors["DataTransfer"] = "NotSupported"
    with pytest.raises(OCPPError) as caught:
        await station.data_transfer("com.csms")
    assert caught.value.code == "NotSupported"
    await csms.stop()  # the CSMS goes away
    await csms.wait_for(lambda: not station.connected)
    with pytest.raises(NotReady):
        await station.data_transfer("com.csms")  # offline: not sent, not kept
    assert len(csms.received("DataTransfer")) == 1
