"""The ocpp_transaction_event_response publication in EVerest's shape (seed 004)."""

from __future__ import annotations

from ocpp_station.control.publications import transaction_event_response

STARTED = {
    "eventType": "Started",
    "transactionInfo": {"transactionId": "T1"},
    "evse": {"id": 1, "connectorId": 1},
}
HELLO = {"format": "UTF8", "language": "en", "content": "Hello"}
BYE = {"format": "UTF8", "content": "Bye"}


def test_cost_priority_and_the_updated_personal_message() -> None:
    response = {"totalCost": 1.5, "chargingPriority": 2, "updatedPersonalMessage": BYE}
    out = transaction_event_response({"request": STARTED, "response": response})
    assert out == {
        "original_transaction_event": {
            "transaction_event": "Started",
            "transaction_id": "T1",
            "session_id": "T1",
            "evse": {"id": 1, "connector_id": 1},
        },
        "total_cost": 1.5,
        "charging_priority": 2,
        "personal_message": {"format": "UTF8", "content": "Bye"},
    }


def test_the_personal_message_of_the_id_token_info_when_there_is_no_update() -> None:
    response = {"idTokenInfo": {"status": "Accepted", "personalMessage": HELLO}}
    out = transaction_event_response({"request": STARTED, "response": response})
    assert out["personal_message"] == HELLO
    both = {**response, "updatedPersonalMessage": BYE}
    assert transaction_event_response({"request": STARTED, "response": both})[
        "personal_message"
    ] == {"format": "UTF8", "content": "Bye"}
    assert "personal_message" not in transaction_event_response(
        {"request": STARTED, "response": {}}
    )
