"""Schema validation and the schema-error -> CALLERROR code mapping (Part 4 section 4.3)."""

from __future__ import annotations

import copy
import random
from typing import Any

import jsonschema
import pytest

from ocpp_station.rpc.errors import ErrorCode, OCPPError
from ocpp_station.rpc.validation import Kind, SchemaRegistry, default_registry, validate
from ocpp_station.schema_fast import UnsupportedSchema, compile_fast

KINDS: tuple[Kind, Kind] = ("request", "response")
BOOT: dict[str, Any] = {"reason": "PowerUp", "chargingStation": {"model": "M1", "vendorName": "V"}}


def _fails(action: str, payload: dict[str, Any], kind: str = "request") -> OCPPError:
    with pytest.raises(OCPPError) as info:
        validate(action, kind, payload)  # type: ignore[arg-type]
    return info.value


def test_actions_are_every_ocpp201_action() -> None:
    actions = default_registry().actions
    assert len(actions) == 64
    assert {"BootNotification", "TransactionEvent", "Get15118EVCertificate", "Reset"} <= actions
    assert "BootNotificationRequest" not in actions


def test_default_registry_is_shared() -> None:
    assert default_registry() is default_registry()


def test_valid_payloads_pass() -> None:
    validate("BootNotification", "request", BOOT)
    validate("ChangeAvailability", "request", {"operationalStatus": "Operative"})
    validate(
        "BootNotification",
        "response",
        {"currentTime": "2026-01-01T00:00:00.000Z", "interval": 300, "status": "Accepted"},
    )


def test_validators_compiled_once_and_cached() -> None:
    registry = SchemaRegistry()
    first = registry.fast_check("Heartbeat", "request")
    assert registry.fast_check("Heartbeat", "request") is first
    assert registry.validator("Heartbeat", "request") is registry.validator("Heartbeat", "request")


def test_ocpp16_enum_value_is_type_constraint_violation() -> None:
    error = _fails("ChangeAvailability", {"operationalStatus": "Available"})
    assert error.code is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    assert error.details["field"] == "operationalStatus"
    assert error.description.startswith("operationalStatus: ")
    assert "Available" in error.description


def test_wrong_json_type_is_type_constraint_violation() -> None:
    error = _fails("ChangeAvailability", {"operationalStatus": "Operative", "evse": {"id": "1"}})
    assert error.code is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    assert error.details["field"] == "evse.id"
    assert "integer" in error.description


def test_flat_connector_id_is_format_violation() -> None:
    # The OCPP 1.6 shape: a top-level connectorId (and "type") instead of evse{}.
    error = _fails("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
    assert error.code is ErrorCode.FORMAT_VIOLATION
    assert error.details["field"] == "connectorId"
    assert "not allowed" in error.description


def test_unknown_nested_property_names_its_path() -> None:
    payload = {"operationalStatus": "Operative", "evse": {"id": 1, "connector": 2}}
    error = _fails("ChangeAvailability", payload)
    assert error.code is ErrorCode.FORMAT_VIOLATION
    assert error.description.startswith("evse.connector: ")


def test_missing_required_is_occurrence_constraint_violation() -> None:
    error = _fails("ChangeAvailability", {})
    assert error.code is ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION
    assert error.details["field"] == "operationalStatus"


def test_nested_missing_required_names_its_path() -> None:
    error = _fails("BootNotification", {"reason": "PowerUp", "chargingStation": {"model": "M"}})
    assert error.code is ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION
    assert error.details["field"] == "chargingStation.vendorName"


def test_min_items_is_occurrence_constraint_violation() -> None:
    payload = {"evseId": 1, "meterValue": []}
    error = _fails("MeterValues", payload)
    assert error.code is ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION
    assert error.details["field"] == "meterValue"


def test_over_long_string_is_property_constraint_violation() -> None:
    payload = copy.deepcopy(BOOT)
    payload["chargingStation"]["model"] = "M" * 21  # string[20]
    error = _fails("BootNotification", payload)
    assert error.code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    assert error.details["field"] == "chargingStation.model"
    assert "20" in error.description


def test_over_long_reason_is_property_constraint_violation() -> None:
    # SecurityEventNotification.techInfo is string[255]
    payload = {"type": "X", "timestamp": "2026-01-01T00:00:00Z", "techInfo": "t" * 256}
    error = _fails("SecurityEventNotification", payload)
    assert error.code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    assert error.details["field"] == "techInfo"


@pytest.mark.parametrize("soc", [-1, 101])
def test_out_of_range_is_property_constraint_violation(soc: int) -> None:
    # DCChargingParameters.stateOfCharge: integer, minimum 0, maximum 100
    payload: dict[str, Any] = {
        "evseId": 1,
        "chargingNeeds": {
            "requestedEnergyTransfer": "DC",
            "dcChargingParameters": {"evMaxCurrent": 100, "evMaxVoltage": 400, "stateOfCharge": 50},
        },
    }
    validate("NotifyEVChargingNeeds", "request", payload)
    payload["chargingNeeds"]["dcChargingParameters"]["stateOfCharge"] = soc
    error = _fails("NotifyEVChargingNeeds", payload)
    assert error.code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    assert error.details["field"] == "chargingNeeds.dcChargingParameters.stateOfCharge"
    assert ("below" if soc < 0 else "above") in error.description


def test_array_index_in_path() -> None:
    payload = {
        "evseId": 1,
        "meterValue": [
            {"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [{"value": 1.0}]},
            {"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [{"value": "x"}]},
        ],
    }
    error = _fails("MeterValues", payload)
    assert error.code is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    assert error.details["field"] == "meterValue[1].sampledValue[0].value"


def test_bad_date_time_is_type_constraint_violation() -> None:
    response = {"currentTime": "yesterday", "interval": 300, "status": "Accepted"}
    error = _fails("BootNotification", response, "response")
    assert error.code is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    assert error.details["field"] == "currentTime"
    response["currentTime"] = "2026-13-01T00:00:00Z"  # month 13 matches the shape, not a date
    assert _fails("BootNotification", response, "response").details["field"] == "currentTime"


def test_payload_not_an_object() -> None:
    error = _fails("Heartbeat", [])  # type: ignore[arg-type]
    assert error.code is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    assert error.details["field"] == "$"


def test_unknown_action_is_not_implemented() -> None:
    error = _fails("StartTransaction", {})
    assert error.code is ErrorCode.NOT_IMPLEMENTED


def test_bad_kind_is_a_precise_error() -> None:
    with pytest.raises(ValueError, match="'request' or 'response'"):
        validate("Heartbeat", "answer", {})  # type: ignore[arg-type]


def test_several_errors_choose_deterministically() -> None:
    # unknown property beats wrong type beats missing field beats range
    payload: dict[str, Any] = {
        "chargingStation": {"model": "M" * 30, "vendorName": 5},
        "extra": 1,
    }
    assert _fails("BootNotification", payload).code is ErrorCode.FORMAT_VIOLATION
    del payload["extra"]
    assert _fails("BootNotification", payload).code is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    payload["chargingStation"]["vendorName"] = "V"
    assert _fails("BootNotification", payload).code is ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION
    payload["reason"] = "PowerUp"
    assert _fails("BootNotification", payload).code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    # and repeatable
    descriptions = {_fails("ChangeAvailability", {"a": 1, "b": 2, "c": 3}).description}
    descriptions |= {_fails("ChangeAvailability", {"c": 3, "b": 2, "a": 1}).description}
    assert len(descriptions) == 1


def test_description_stays_short_for_huge_values() -> None:
    payload = copy.deepcopy(BOOT)
    payload["chargingStation"]["model"] = "M" * 100_000
    error = _fails("BootNotification", payload)
    assert len(error.description) < 200


# --- the compiled fast path agrees with jsonschema on every official schema ---------------------


def _sample(node: dict[str, Any], defs: dict[str, Any], rng: random.Random, depth: int = 0) -> Any:
    """A random instance that is valid for ``node`` (only where the schemas need it)."""
    if "$ref" in node:
        return _sample(defs[node["$ref"].split("/")[-1]], defs, rng, depth)
    if "enum" in node:
        return rng.choice(node["enum"])
    kind = node.get("type")
    if kind == "object":
        out = {}
        for name, sub in node.get("properties", {}).items():
            if name in node.get("required", []) or (depth < 4 and rng.random() < 0.5):
                out[name] = _sample(sub, defs, rng, depth + 1)
        return out
    if kind == "array":
        low = node.get("minItems", 0)
        high = min(node.get("maxItems", low + 2), low + 2)
        return [_sample(node["items"], defs, rng, depth + 1) for _ in range(rng.randint(low, high))]
    if kind == "string":
        if node.get("format") == "date-time":
            return "2026-01-01T12:00:00.000Z"
        return "s" * rng.randint(0, min(node.get("maxLength", 8), 8))
    if kind == "integer":
        return rng.randint(int(node.get("minimum", 0)), int(node.get("maximum", 100)))
    if kind == "number":
        return rng.uniform(node.get("minimum", 0), node.get("maximum", 100))
    if kind == "boolean":
        return rng.random() < 0.5
    return None


_BAD_VALUES: list[Any] = [None, True, 1, -1, 1.5, "", "x" * 3000, [], [1], {}, {"zz": 1}]


def _mutate(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict) and value and rng.random() < 0.7:
        key = rng.choice(sorted(value))
        roll = rng.random()
        if roll < 0.25:
            del value[key]
        elif roll < 0.4:
            value["unexpectedField"] = 1
        else:
            value[key] = _mutate(value[key], rng)
        return value
    if isinstance(value, list) and value and rng.random() < 0.7:
        index = rng.randrange(len(value))
        value[index] = _mutate(value[index], rng)
        return value
    return rng.choice(_BAD_VALUES)


def test_fast_path_compiles_every_schema() -> None:
    registry = default_registry()
    for action in sorted(registry.actions):
        for kind in KINDS:
            schema = registry.validator(action, kind).schema
            try:
                compile_fast(dict(schema))
            except UnsupportedSchema as exc:  # pragma: no cover - a new schema keyword appeared
                pytest.fail(f"{action}{kind}: {exc}")


def test_fast_path_agrees_with_jsonschema() -> None:
    registry = default_registry()
    rng = random.Random(2026)
    checked = 0
    for action in sorted(registry.actions):
        for kind in KINDS:
            validator = registry.validator(action, kind)
            schema = dict(validator.schema)
            fast = compile_fast(schema)
            for _ in range(12):
                good = _sample(schema, schema.get("definitions", {}), rng)
                assert validator.is_valid(good), (action, kind, good)
                assert fast(good), (action, kind, good)
                bad = _mutate(copy.deepcopy(good), rng)
                assert fast(bad) == validator.is_valid(bad), (action, kind, bad)
                checked += 1
    assert checked == 64 * 2 * 12


def test_jsonschema_is_the_authority_when_fast_path_says_no() -> None:
    # A registry whose fast check rejects everything still accepts valid payloads.
    registry = SchemaRegistry()
    registry._fast["request"]["Heartbeat"] = lambda payload: False
    registry.validate("Heartbeat", "request", {})
    assert isinstance(registry.validator("Heartbeat", "request"), jsonschema.Draft6Validator)
