"""The pure DataTransfer rules: which handler answers (P01.FR.05/06) and what a valid answer is."""

from __future__ import annotations

from typing import Any

import pytest

from ocpp_station.blocks.data_transfer.handlers import (
    DataTransferRegistry,
    checked_answer,
    handler_failed,
    request_payload,
)


def accept(request: dict[str, Any]) -> dict[str, Any]:
    return {"status": "Accepted"}


def reject(request: dict[str, Any]) -> dict[str, Any]:
    return {"status": "Rejected"}


def test_unknown_vendor_is_answered_unknown_vendor_id_p01_fr_05() -> None:
    registry = DataTransferRegistry()
    registry.register("com.example", accept)
    assert registry.resolve("com.other", None) == {"status": "UnknownVendorId"}
    assert registry.resolve("com.other", "m") == {"status": "UnknownVendorId"}
    assert registry.resolve("COM.EXAMPLE", None) == {"status": "UnknownVendorId"}  # exact ids


def test_known_vendor_unknown_message_is_unknown_message_id_p01_fr_06() -> None:
    registry = DataTransferRegistry()
    registry.register("com.example", accept, message_id="ping")
    assert registry.resolve("com.example", "ping") is accept
    assert registry.resolve("com.example", "pong") == {"status": "UnknownMessageId"}
    # no messageId while the vendor only answers specific ones: a message id mismatch too
    assert registry.resolve("com.example", None) == {"status": "UnknownMessageId"}


def test_exact_message_handler_wins_over_vendor_wide_handler() -> None:
    registry = DataTransferRegistry()
    registry.register("com.example", accept)
    registry.register("com.example", reject, message_id="special")
    assert registry.resolve("com.example", "special") is reject
    assert registry.resolve("com.example", "anything") is accept
    assert registry.resolve("com.example", None) is accept


def test_unregister_removes_only_its_own_registration() -> None:
    registry = DataTransferRegistry()
    first = registry.register("com.example", accept)
    registry.register("com.example", reject)  # replaces the first
    first()  # a no-op: it was replaced
    assert registry.resolve("com.example", None) is reject
    second = registry.register("com.example", accept, message_id="m")
    second()
    assert registry.registered() == [("com.example", None)]


@pytest.mark.parametrize(
    ("vendor", "message"),
    [("", None), ("v" * 256, None), (7, None), ("com.example", ""), ("com.example", "m" * 51)],
)
def test_ids_a_data_transfer_cannot_carry_are_refused(vendor: Any, message: Any) -> None:
    with pytest.raises(ValueError):
        DataTransferRegistry().register(vendor, accept, message)
    with pytest.raises(ValueError):
        request_payload(vendor, message)


def test_a_valid_answer_passes_unchanged() -> None:
    answer = {"status": "Accepted", "data": {"n": [1, 2]}, "statusInfo": {"reasonCode": "NoError"}}
    assert checked_answer(answer) is answer


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        ("Accepted", "returned str"),
        ({"status": "Fine"}, "invalid"),
        ({"status": "Accepted", "extra": 1}, "invalid"),
        ({"status": "Accepted", "data": {1, 2}}, "not JSON"),
        ({"status": "Accepted", "data": float("nan")}, "not JSON"),
    ],
)
def test_an_invalid_answer_becomes_rejected_with_status_info(answer: Any, fragment: str) -> None:
    checked = checked_answer(answer)
    assert checked["status"] == "Rejected"
    assert checked["statusInfo"]["reasonCode"] == "InternalError"
    assert fragment in checked["statusInfo"]["additionalInfo"]


def test_a_failed_handler_names_only_the_exception_type() -> None:
    answer = handler_failed(RuntimeError("secret token 1234"))
    assert answer == {
        "status": "Rejected",
        "statusInfo": {
            "reasonCode": "InternalError",
            "additionalInfo": "the DataTransfer handler failed: RuntimeError",
        },
    }
    assert checked_answer(answer) is answer


def test_request_payload_p02() -> None:
    assert request_payload("com.example") == {"vendorId": "com.example"}
    assert request_payload("com.example", "m", {"a": 1}, {"vendorId": "x"}) == {
        "vendorId": "com.example",
        "messageId": "m",
        "data": {"a": 1},
        "customData": {"vendorId": "x"},
    }
    assert request_payload("com.example", data=0)["data"] == 0  # falsy data is still data
    with pytest.raises(ValueError, match="not JSON"):
        request_payload("com.example", data=object())
