"""Strict input, pure: lone surrogates on the wire (Part 4 section 4.1.2) are refused with the
right CALLERROR, never sent, and an answer carrying one is escaped."""

from __future__ import annotations

import json

import pytest

from ocpp_station.rpc.connection import RpcConnection
from ocpp_station.rpc.errors import ErrorCode, InvalidRequest
from ocpp_station.rpc.frames import CallResult as Result
from ocpp_station.rpc.frames import FrameError, encode, lone_surrogate_path, parse


def test_a_message_id_with_a_lone_surrogate_is_answered_with_minus_one() -> None:
    with pytest.raises(FrameError) as err:
        parse('[2,"ab\\ud800","Heartbeat",{}]')
    assert (err.value.code, err.value.message_id) == (ErrorCode.RPC_FRAMEWORK_ERROR, "-1")
    assert err.value.answerable


def test_a_lone_surrogate_in_the_payload_is_a_format_violation_naming_the_field() -> None:
    raw = '[2,"m1","GetVariables",{"getVariableData":[{"component":{"name":"X\\udc00"}}]}]'
    with pytest.raises(FrameError) as err:
        parse(raw)
    assert (err.value.code, err.value.message_id) == (ErrorCode.FORMAT_VIOLATION, "m1")
    assert "getVariableData[0].component.name" in err.value.description
    # a valid pair (an emoji written as two escapes) is fine
    assert parse('[3,"m2",{"text":"\\ud83d\\ude00"}]') == Result("m2", {"text": "\U0001f600"})


def test_lone_surrogate_path_finds_keys_and_values() -> None:
    assert lone_surrogate_path({"a": [1, {"b": "ok"}, "\udfff"]}) == "a[2]"
    assert lone_surrogate_path({"ok": {"\ud800": 1}}) == "ok.\\ud800"
    assert lone_surrogate_path({"a": "fine ü 😀"}) is None


def test_an_outgoing_request_that_utf8_cannot_carry_is_refused_before_sending() -> None:
    conn = RpcConnection(timeout=lambda: 5.0)
    with pytest.raises(InvalidRequest) as err:
        conn.call("Authorize", {"idToken": {"idToken": "x\ud800", "type": "ISO14443"}}, 0.0)
    assert err.value.code == ErrorCode.FORMAT_VIOLATION
    assert "idToken.idToken" in err.value.description
    with pytest.raises(InvalidRequest):  # its own schema
        conn.call("SecurityEventNotification", {"type": "x", "timestamp": "not a time"}, 0.0)
    assert conn.in_flight is None and conn.waiting == 0


def test_an_answer_with_a_lone_surrogate_is_escaped_never_unsendable() -> None:
    text = encode(Result("m1", {"value": "a\ud800"}))
    text.encode("utf-8")  # never raises
    assert json.loads(text) == [3, "m1", {"value": "a\ud800"}]
