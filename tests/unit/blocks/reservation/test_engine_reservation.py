"""The transaction engine carries the id of a used reservation (H01.FR.15): in the Started event
when the authorization starts the transaction, in the next event when the cable started it; kept
over a restart until reported."""

from __future__ import annotations

import importlib.resources
import json
from typing import Any

import jsonschema
import pytest

from ocpp_station.blocks.transactions.engine import EvseTransaction, Output, SendTransactionEvent
from ocpp_station.blocks.transactions.types import TxConfig

T0 = 1_767_225_600.0
TOKEN = {"idToken": "ALICE", "type": "ISO14443"}
_VALIDATOR = jsonschema.Draft6Validator(
    json.loads(
        (
            importlib.resources.files("ocpp.v201") / "schemas" / "TransactionEventRequest.json"
        ).read_text()
    )
)


def cfg(*start: str) -> TxConfig:
    return TxConfig(frozenset(start), frozenset({"EVConnected"}))


def events(outs: list[Output]) -> list[dict[str, Any]]:
    payloads = [o.payload for o in outs if isinstance(o, SendTransactionEvent)]
    for p in payloads:
        _VALIDATOR.validate(p)
    return payloads


def test_started_event_carries_the_reservation() -> None:
    c = cfg("Authorized", "EVConnected")
    evse = EvseTransaction(1)
    (started,) = events(evse.authorized(TOKEN, T0, c, reservation_id=42))
    assert started["eventType"] == "Started" and started["reservationId"] == 42
    later = events(evse.plug(1, True, T0 + 1, c))
    assert later and all("reservationId" not in p for p in later)


def test_cable_first_reports_it_in_the_authorized_update() -> None:
    c = cfg("EVConnected")
    evse = EvseTransaction(1)
    (started,) = events(evse.plug(1, True, T0, c))
    assert "reservationId" not in started
    (update,) = events(evse.authorized(TOKEN, T0 + 1, c, reservation_id=7))
    assert update["eventType"] == "Updated" and update["reservationId"] == 7


def test_remote_start_with_a_reservation() -> None:
    c = cfg("Authorized")
    evse = EvseTransaction(1)
    (started,) = events(evse.remote_start(TOKEN, 3, T0, c, reservation_id=9))
    assert started["reservationId"] == 9 and started["transactionInfo"]["remoteStartId"] == 3


def test_not_yet_reported_reservation_survives_a_restart() -> None:
    c = cfg("EVConnected")  # the authorization alone starts nothing
    evse = EvseTransaction(1)
    assert events(evse.authorized(TOKEN, T0, c, reservation_id=5)) == []
    record = evse.to_persist()
    assert record["pending_reservation_id"] == 5
    again = EvseTransaction(1, persisted=json.loads(json.dumps(record)))
    (started,) = events(again.plug(1, True, T0 + 1, c))
    assert started["reservationId"] == 5
    assert "pending_reservation_id" not in again.to_persist()


def test_reservation_id_must_be_an_integer() -> None:
    with pytest.raises(ValueError):
        EvseTransaction(1).authorized(TOKEN, T0, cfg("Authorized"), reservation_id=True)
