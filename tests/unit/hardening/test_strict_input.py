"""Strict input, pure: OCPP primitives (Part 2), lone surrogates (Part 4 section 4.1.2), absurd
charging limits (K01), strict control-API JSON."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

import pytest

from device_model import load_definitions
from device_model.values import InvalidValue, check_value
from ocpp_station.blocks.smart_charging.composite import EvseContext, limit_at
from ocpp_station.blocks.smart_charging.store import StoredProfile
from ocpp_station.blocks.smart_charging.validation import (
    LIMIT_HEADROOM,
    ValidationContext,
    validate_profile,
)
from ocpp_station.control import schema as api
from ocpp_station.control.server import MAX_DIGITS, dump_line, parse_line
from ocpp_station.rpc.connection import RpcConnection
from ocpp_station.rpc.errors import ErrorCode, InvalidRequest
from ocpp_station.rpc.frames import CallResult as Result
from ocpp_station.rpc.frames import FrameError, encode, lone_surrogate_path, parse

# -- primitives --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["٣", "５", " 7 ", "+7", "7 ", "\t7", "1_000", "0x10", "7\n"])
def test_an_integer_is_ascii_digits_with_an_optional_minus_only(text: str) -> None:
    var = load_definitions().by_key[("OCPPCommCtrlr", None, "HeartbeatInterval", None)]
    with pytest.raises(InvalidValue) as err:
        check_value(var, text)
    assert err.value.reason == "InvalidValue"
    assert check_value(var, "70") == "70"


@pytest.mark.parametrize("text", ["٣.5", " 2.5", "+2.5", "2.5 ", "1e999"])
def test_a_decimal_is_ascii_too(text: str) -> None:
    var = load_definitions().by_key[("SmartChargingCtrlr", None, "LimitChangeSignificance", None)]
    with pytest.raises(InvalidValue):
        check_value(var, text)


def test_a_lone_surrogate_in_a_value_is_an_invalid_value_not_an_internal_error() -> None:
    defs = load_definitions()
    for key in (
        ("OCPPCommCtrlr", None, "HeartbeatInterval", None),
        ("SecurityCtrlr", None, "BasicAuthPassword", None),
    ):
        var = defs.by_key.get(key)
        if var is None:
            continue
        with pytest.raises(InvalidValue, match="UTF-8") as err:
            check_value(var, "ab\ud800cd")
        assert err.value.reason == "InvalidValue"


# -- lone surrogates on the wire ---------------------------------------------------------------


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


# -- limits the EVSE cannot physically carry (K01) ---------------------------------------------


def profile(limit: float, unit: str = "A", phases: int | None = None) -> dict[str, Any]:
    period: dict[str, Any] = {"startPeriod": 0, "limit": limit}
    if phases is not None:
        period["numberPhases"] = phases
    return {
        "id": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": unit,
                "startSchedule": "2026-01-01T00:00:00Z",
                "chargingSchedulePeriod": [period],
            }
        ],
    }


CTX = ValidationContext(
    evse_ids=frozenset({1}),
    transactions={},
    rate_units=frozenset({"A", "W"}),
    periods_per_schedule=24,
    max_stack_level=10,
    max_amps=32.0,
)


@pytest.mark.parametrize(
    ("limit", "unit"), [(1e308, "A"), (321, "A"), (1e308, "W"), (230 * 3 * 321, "W")]
)
def test_an_absurd_limit_is_rejected_with_a_reason(limit: float, unit: str) -> None:
    rejection = validate_profile(1, profile(limit, unit), CTX)
    assert rejection is not None and rejection.reason_code == "ValueTooHigh"
    assert "32 A" in rejection.additional_info


@pytest.mark.parametrize(("limit", "unit"), [(32, "A"), (63, "A"), (320, "A"), (22080, "W")])
def test_a_limit_above_the_rating_but_plausible_is_taken_and_capped(
    limit: float, unit: str
) -> None:
    assert LIMIT_HEADROOM == 10
    assert validate_profile(1, profile(limit, unit), CTX) is None


def test_a_stored_absurd_limit_never_breaks_the_limit_arithmetic() -> None:
    stored = StoredProfile(1, profile(1e308))
    limit, phases, _ = limit_at([stored], 1, 1_767_225_700.0, EvseContext(max_current=32))
    assert limit is not None and math.isfinite(limit) and phases == 3


# -- the control API's JSON --------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        b'{"id": NaN, "method": "status"}',
        b'{"id": Infinity, "method": "status"}',
        b'{"id": -Infinity, "method": "status"}',
        b'{"id": 1e999, "method": "status"}',
        b'{"id": ' + b"9" * 5000 + b', "method": "status"}',
        b'{"id": ' + b"9" * (MAX_DIGITS + 1) + b', "method": "status"}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_parse_line_refuses_what_strict_json_has_not(line: bytes) -> None:
    with pytest.raises(ValueError):
        parse_line(line)


def test_dump_line_is_strict_json_or_an_error_reply() -> None:
    log = logging.getLogger("t.control")
    assert dump_line({"id": 1, "result": [1.5]}, log) == b'{"id":1,"result":[1.5]}\n'
    bad = json.loads(dump_line({"id": 2, "result": math.nan}, log))
    assert bad["id"] == 2 and bad["error"]["code"] == "InternalError"
    assert json.loads(dump_line({"id": 3, "result": "x\ud800"}, log))["result"] == "x\ud800"


def test_every_format_the_control_schema_uses_is_checked() -> None:
    used: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("format"), str):
                used.add(node["format"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(api.control_schema())
    assert used and used <= set(api._FORMATS.checkers)
    with pytest.raises(api.ControlError, match="date-time"):
        api.check_params("security_event", {"event": {"type": "x", "timestamp": "yesterday"}})
