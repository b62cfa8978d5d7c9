"""Tariff and cost (I01-I06) against the ``ocpp``-package CSMS with the sim backend: personal
messages and costs from the CSMS, CostUpdated and the offline fallback messages reach the
simulated display, ``status()`` and the control API publications (``display_messages``, and
``ocpp_transaction_event_response`` with seed 004's ``total_cost`` and ``personal_message``)."""

from __future__ import annotations

from typing import Any

from support import StationFactory, everest, sim, transaction

from ocpp_station import Station
from ocpp_station.csms import LocalCSMS

SETTINGS = {"SampledDataCtrlr.TxUpdatedInterval": 0, "AlignedDataCtrlr.Interval": 0}
TARIFF = {"format": "UTF8", "language": "en", "content": "0.30 EUR/kWh"}


async def booted(csms: LocalCSMS, make_station: StationFactory) -> Station:
    station = await make_station(device_model=SETTINGS)
    await csms.wait_received("StatusNotification", count=1, station=station.config.id)
    return station


async def setting(csms: LocalCSMS, sid: str, name: str, value: str, instance: str = "") -> None:
    variable = {"name": name, **({"instance": instance} if instance else {})}
    item = {"component": {"name": "TariffCostCtrlr"}, "variable": variable, "attributeValue": value}
    result = await csms.send(sid, "SetVariables", {"setVariableData": [item]})
    assert result["setVariableResult"][0]["attributeStatus"] == "Accepted"


def shown(station: Station) -> list[str]:
    return [line["content"] for line in sim(station).display.lines]


def events(csms: LocalCSMS, sid: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in csms.received("TransactionEvent", sid) if e["eventType"] == kind]


async def start(csms: LocalCSMS, station: Station, count: int = 1) -> str:
    sim(station).plug_in(1, 1)
    sim(station).present_id_token(1, "ALICE")
    started = await csms.wait_for(
        lambda: (
            len(events(csms, station.config.id, "Started")) >= count
            and events(csms, station.config.id, "Started")
        )
    )
    tx: str = started[-1]["transactionInfo"]["transactionId"]
    return tx


async def test_running_and_total_cost_i02_i03(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """I02: the totalCost of a TransactionEventResponse to Started/Updated is the cost so far;
    I03: the one answering Ended is the total cost; shown in TariffCostCtrlr.Currency and
    published as ``total_cost`` of ``ocpp_transaction_event_response``."""
    station = await booted(csms, make_station)
    sid = station.config.id
    await setting(csms, sid, "Currency", "CHF")
    responses: list[dict[str, Any]] = []
    station.subscribe(
        everest(
            lambda t, d: responses.append(d) if t == "ocpp_transaction_event_response" else None
        )
    )
    csms.policy.transaction_response = {"*": {"totalCost": 1.5}, "Ended": {"totalCost": 3.25}}
    tx = await start(csms, station)
    await csms.wait_for(lambda: shown(station) == ["Cost so far: 1.50 CHF"])
    line = sim(station).display.lines[0]
    assert (line["source"], line["transactionId"], line["totalCost"]) == ("Cost", tx, 1.5)
    assert responses[0]["total_cost"] == 1.5
    assert responses[0]["original_transaction_event"]["transaction_id"] == tx
    sim(station).unplug(1)
    await csms.wait_for(lambda: shown(station) == ["Total cost: 3.25 CHF"])
    await csms.wait_for(
        lambda: responses[-1]["original_transaction_event"]["transaction_event"] == "Ended"
    )
    assert responses[-1]["total_cost"] == 3.25
    assert station.status()["display"][0]["final"] is True


async def test_cost_updated_i02(csms: LocalCSMS, make_station: StationFactory) -> None:
    """I02: CostUpdated (answered with an empty CostUpdatedResponse) shows the running cost on the
    display and in the ``display_messages`` publication; TariffCostCtrlr.Enabled[Cost] false:
    costs are no longer shown."""
    station = await booted(csms, make_station)
    sid = station.config.id
    published: list[Any] = []
    station.subscribe(
        everest(lambda t, d: published.append(d) if t == "display_messages" else None)
    )
    tx = await start(csms, station)
    answer = await csms.send(sid, "CostUpdated", {"totalCost": 2.0, "transactionId": tx})
    assert answer == {}
    await csms.wait_for(lambda: shown(station) == ["Cost so far: 2.00 EUR"])
    assert published[-1]["lines"][0]["total_cost"] == 2.0
    assert published[-1]["lines"][0]["transaction_id"] == tx
    await setting(csms, sid, "Enabled", "false", "Cost")
    assert await csms.send(sid, "CostUpdated", {"totalCost": 9.0, "transactionId": tx}) == {}
    assert shown(station) == ["Cost so far: 2.00 EUR"]


async def test_personal_message_from_authorize_and_transaction_event_i01_i06(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """I01: the personalMessage of an AuthorizeResponse is the driver's tariff, shown before the
    transaction starts and kept for it; I06: an updatedPersonalMessage replaces it, published
    as ``personal_message``.  TariffCostCtrlr.Enabled[Tariff] false: not shown."""
    station = await booted(csms, make_station)
    sid = station.config.id
    responses: list[dict[str, Any]] = []
    station.subscribe(
        everest(
            lambda t, d: responses.append(d) if t == "ocpp_transaction_event_response" else None
        )
    )
    csms.policy.token_info["ALICE"] = {"personalMessage": TARIFF}
    sim(station).present_id_token(1, "ALICE")
    await csms.wait_for(lambda: shown(station) == ["0.30 EUR/kWh"])
    assert sim(station).display.lines[0]["language"] == "en"
    update = {"format": "UTF8", "content": "now 0.25 EUR/kWh"}
    csms.policy.transaction_response = {"Updated": {"updatedPersonalMessage": update}}
    sim(station).plug_in(1, 1)
    await csms.wait_for(lambda: shown(station) == ["now 0.25 EUR/kWh"])
    tx = events(csms, sid, "Started")[0]["transactionInfo"]["transactionId"]
    assert sim(station).display.lines[0]["transactionId"] == tx
    assert any(r.get("personal_message") == update for r in responses)
    sim(station).unplug(1)
    await csms.wait_for(lambda: transaction(station) is None)
    await setting(csms, sid, "Enabled", "false", "Tariff")
    csms.policy.token_info["ALICE"] = {"personalMessage": {"format": "UTF8", "content": "hidden"}}
    csms.policy.transaction_response = {}
    sim(station).present_id_token(1, "ALICE")
    sim(station).plug_in(1, 1)
    # the transaction starts only once the AuthorizeResponse was handled
    await csms.wait_for(lambda: len(events(csms, sid, "Started")) == 2)
    await csms.wait_for(lambda: transaction(station) is not None)
    assert len(csms.received("Authorize", sid)) == 2
    assert shown(station) == []  # the ended transaction's lines went, the new message is off


async def test_fallback_messages_while_offline_i04_i05(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """I05: a transaction ending while offline shows TotalCostFallbackMessage; I04: one starting
    while offline shows TariffFallbackMessage (the lines of the ended transaction go)."""
    station = await booted(csms, make_station)
    sid = station.config.id
    await setting(csms, sid, "TariffFallbackMessage", "Standard tariff applies")
    await setting(csms, sid, "TotalCostFallbackMessage", "Your bill follows by mail")
    await start(csms, station)
    await csms.stop()
    await csms.wait_for(lambda: not station.connected)
    sim(station).unplug(1)
    await csms.wait_for(lambda: shown(station) == ["Your bill follows by mail"])
    assert sim(station).display.lines[0]["source"] == "Fallback"
    sim(station).plug_in(1, 1)
    sim(station).present_id_token(1, "ALICE")  # cached Accepted: charges offline
    await csms.wait_for(lambda: shown(station) == ["Standard tariff applies"])
