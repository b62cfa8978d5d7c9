"""OCPP-J framing (OCPP 2.0.1 Part 4 section 4)."""

from __future__ import annotations

import json

import pytest

from ocpp_station.rpc.errors import ErrorCode
from ocpp_station.rpc.frames import (
    Call,
    CallError,
    CallResult,
    FrameError,
    encode,
    new_message_id,
    parse,
)

BOOT = {"reason": "PowerUp", "chargingStation": {"model": "M1", "vendorName": "V"}}


def test_parse_call() -> None:
    frame = parse(json.dumps([2, "abc", "BootNotification", BOOT]))
    assert frame == Call("abc", "BootNotification", BOOT)


def test_parse_call_result_and_error() -> None:
    assert parse('[3,"id1",{"status":"Accepted"}]') == CallResult("id1", {"status": "Accepted"})
    assert parse('[4,"id2","NotSupported","nope",{"a":1}]') == CallError(
        "id2", "NotSupported", "nope", {"a": 1}
    )


def test_parse_accepts_utf8_bytes() -> None:
    frame = parse('[2,"x","DataTransfer",{"vendorId":"Ünïcode"}]'.encode())
    assert isinstance(frame, Call)
    assert frame.payload == {"vendorId": "Ünïcode"}


def test_null_payload_reads_as_empty_object() -> None:
    # Part 4 section 4.1.5: an empty payload may be written as null or {}.
    assert parse('[2,"x","Heartbeat",null]') == Call("x", "Heartbeat", {})


def _error(text: str | bytes) -> FrameError:
    with pytest.raises(FrameError) as info:
        parse(text)
    return info.value


@pytest.mark.parametrize(
    "text",
    ["not json", "[2,", "", b"\xff\xfe[2]", '[2,"x","Heartbeat",{"a":NaN}]'],
    ids=["garbage", "truncated", "empty", "bad-utf8", "nan"],
)
def test_not_json_is_rpc_framework_error_with_unreadable_id(text: str | bytes) -> None:
    error = _error(text)
    assert error.code is ErrorCode.RPC_FRAMEWORK_ERROR
    assert error.message_id == "-1"
    assert error.answerable


@pytest.mark.parametrize("text", ['{"a":1}', '"hello"', "42", "[]"])
def test_not_an_array_is_rpc_framework_error(text: str) -> None:
    error = _error(text)
    assert error.code is ErrorCode.RPC_FRAMEWORK_ERROR
    assert error.message_id == "-1"


@pytest.mark.parametrize("text", ["[2]", '[2,17,"Heartbeat",{}]', '[2,"","Heartbeat",{}]'])
def test_no_readable_message_id(text: str) -> None:
    error = _error(text)
    assert error.code is ErrorCode.RPC_FRAMEWORK_ERROR
    assert error.message_id == "-1"
    assert "message id" in error.description


def test_unknown_message_type_keeps_the_id() -> None:
    # Part 4 section 4.4: answered with MessageTypeNotSupported.
    error = _error('[7,"m-1","Heartbeat",{}]')
    assert error.code is ErrorCode.MESSAGE_TYPE_NOT_SUPPORTED
    assert error.message_id == "m-1"
    assert error.answerable
    assert "7" in error.description


def test_non_integer_message_type() -> None:
    for text in ('["2","m-2","Heartbeat",{}]', '[true,"m-2","Heartbeat",{}]'):
        error = _error(text)
        assert error.code is ErrorCode.RPC_FRAMEWORK_ERROR
        assert error.message_id == "m-2"


def test_message_id_longer_than_36() -> None:
    long_id = "x" * 37
    error = _error(json.dumps([2, long_id, "Heartbeat", {}]))
    assert error.code is ErrorCode.RPC_FRAMEWORK_ERROR
    assert error.message_id == long_id
    assert "36" in error.description
    assert parse(json.dumps([2, "y" * 36, "Heartbeat", {}])) == Call("y" * 36, "Heartbeat", {})


@pytest.mark.parametrize(
    "wire, needle",
    [
        ([2, "c1", "Heartbeat"], "4 elements, got 3"),
        ([2, "c1", "Heartbeat", {}, {}], "4 elements, got 5"),
        ([2, "c1", 5, {}], "action"),
        ([2, "c1", "", {}], "action"),
    ],
)
def test_malformed_call_is_rpc_framework_error(wire: list[object], needle: str) -> None:
    error = _error(json.dumps(wire))
    assert error.code is ErrorCode.RPC_FRAMEWORK_ERROR
    assert error.message_id == "c1"
    assert needle in error.description
    assert error.answerable


def test_call_payload_not_an_object_is_format_violation() -> None:
    # Part 4 section 4.3: FormatViolation = "Payload for Action is syntactically incorrect".
    error = _error('[2,"c2","Heartbeat",[1,2]]')
    assert error.code is ErrorCode.FORMAT_VIOLATION
    assert error.message_id == "c2"
    assert "array" in error.description


@pytest.mark.parametrize(
    "wire",
    [
        [3, "r1"],
        [3, "r1", "text"],
        [4, "r1", "NotSupported", "x"],
        [4, "r1", 5, "x", {}],
        [4, "r1", "NotSupported", 5, {}],
        [4, "r1", "NotSupported", "x", []],
    ],
)
def test_malformed_result_or_error_is_not_answerable(wire: list[object]) -> None:
    error = _error(json.dumps(wire))
    assert error.message_id == "r1"
    assert not error.answerable  # never answer a response with a CALLERROR (no loops)


def test_encode_is_compact_and_keeps_unicode() -> None:
    text = encode(Call("id", "DataTransfer", {"vendorId": "Ünï", "data": [1, 2]}))
    assert text == '[2,"id","DataTransfer",{"vendorId":"Ünï","data":[1,2]}]'
    assert encode(CallResult("id", {})) == '[3,"id",{}]'
    assert encode(CallError("id", "InternalError", "boom", {})) == (
        '[4,"id","InternalError","boom",{}]'
    )


@pytest.mark.parametrize(
    "frame",
    [
        Call("a", "Heartbeat", {}),
        CallResult("b", {"currentTime": "2026-01-01T00:00:00.000Z"}),
        CallError("c", "GenericError", "", {"k": [1]}),
    ],
)
def test_round_trip(frame: Call | CallResult | CallError) -> None:
    assert parse(encode(frame)) == frame


def test_encode_refuses_nan() -> None:
    with pytest.raises(ValueError):
        encode(CallResult("a", {"x": float("nan")}))


def test_new_message_id_unique_and_short() -> None:
    ids = {new_message_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) <= 36 for i in ids)


def test_deeply_nested_json_does_not_crash() -> None:
    error = _error("[" * 100_000 + "]" * 100_000)
    assert error.code is ErrorCode.RPC_FRAMEWORK_ERROR
