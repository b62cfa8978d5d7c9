"""Provisioning variables: the Get/SetVariables, GetBaseReport and GetReport handlers."""

from __future__ import annotations

import json
import time
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from device_model import DeviceModel
from ocpp_station.blocks.provisioning.reports import (
    handle_get_base_report,
    handle_get_report,
    notify_report_parts,
)
from ocpp_station.blocks.provisioning.variables import handle_get_variables, handle_set_variables
from ocpp_station.rpc.errors import ErrorCode, OCPPError

EVSES = {1: [1], 2: [1, 2]}
NOW = 1_767_225_600.0


def _validator(name: str) -> jsonschema.Draft7Validator:
    text = (resources.files("ocpp") / "v201" / "schemas" / f"{name}.json").read_text()
    return jsonschema.Draft7Validator(
        json.loads(text), format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


NOTIFY_REPORT = _validator("NotifyReportRequest")


@pytest.fixture
def dm(tmp_path: Path) -> Any:
    model = DeviceModel.open(tmp_path / "dm.db", EVSES)
    yield model
    model.close()


def _small(tmp_path: Path, **limits: int) -> DeviceModel:
    seed = {f"DeviceDataCtrlr.{k.replace('__', '[')}]": v for k, v in limits.items()}
    return DeviceModel.open(tmp_path / "small.db", EVSES, seed)


def test_get_and_set_variables_round_trip(dm: DeviceModel) -> None:
    item = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    response = handle_set_variables(dm, {"setVariableData": [{**item, "attributeValue": "90"}]})
    _validator("SetVariablesResponse").validate(response)
    assert response["setVariableResult"][0]["attributeStatus"] == "Accepted"
    response = handle_get_variables(dm, {"getVariableData": [item]})
    _validator("GetVariablesResponse").validate(response)
    assert response["getVariableResult"][0]["attributeValue"] == "90"


def test_500_item_get_variables_is_fast(dm: DeviceModel) -> None:
    pairs = list(dm.variables())
    data = [{"component": c, "variable": v} for c, v in (pairs * 10)[:500]]
    start = time.perf_counter()
    response = handle_get_variables(dm, {"getVariableData": data})
    elapsed = time.perf_counter() - start
    results = response["getVariableResult"]
    assert len(results) == 500
    statuses = {r["attributeStatus"] for r in results}
    assert statuses == {"Accepted", "Rejected"}  # Rejected: the write-only password only
    assert elapsed < 0.5
    _validator("GetVariablesResponse").validate(response)


def test_too_many_items_is_occurrence_constraint_violation(tmp_path: Path) -> None:
    model = _small(tmp_path, ItemsPerMessage__GetVariables=2, ItemsPerMessage__SetVariables=1)
    try:
        item = {"component": {"name": "AuthCtrlr"}, "variable": {"name": "Enabled"}}
        assert (
            len(handle_get_variables(model, {"getVariableData": [item] * 2})["getVariableResult"])
            == 2
        )
        with pytest.raises(OCPPError) as info:  # B06.FR.16
            handle_get_variables(model, {"getVariableData": [item] * 3})
        assert info.value.code is ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION
        assert "ItemsPerMessage[GetVariables] = 2" in info.value.description
        with pytest.raises(OCPPError) as info:
            handle_set_variables(
                model, {"setVariableData": [{**item, "attributeValue": "true"}] * 2}
            )
        assert info.value.code is ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION
    finally:
        model.close()


def test_too_many_bytes_is_format_violation(tmp_path: Path) -> None:
    model = _small(tmp_path, BytesPerMessage__GetVariables=200, BytesPerMessage__SetVariables=100)
    try:
        item = {"component": {"name": "AuthCtrlr"}, "variable": {"name": "Enabled"}}
        handle_get_variables(model, {"getVariableData": [item]})
        with pytest.raises(OCPPError) as info:  # B06.FR.17
            handle_get_variables(model, {"getVariableData": [item] * 4})
        assert info.value.code is ErrorCode.FORMAT_VIOLATION
        assert "BytesPerMessage[GetVariables] = 200" in info.value.description
        with pytest.raises(OCPPError) as info:
            handle_set_variables(
                model, {"setVariableData": [{**item, "attributeValue": "true"}] * 2}
            )
        assert info.value.code is ErrorCode.FORMAT_VIOLATION
    finally:
        model.close()


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION),
        ({"getVariableData": "all"}, ErrorCode.TYPE_CONSTRAINT_VIOLATION),
        ({"getVariableData": []}, ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION),
        (
            {"getVariableData": [{"component": {"name": "A"}}]},
            ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
        ),
        (
            {
                "getVariableData": [
                    {"component": {"name": "A", "evse": {"id": "1"}}, "variable": {"name": "B"}}
                ]
            },
            ErrorCode.TYPE_CONSTRAINT_VIOLATION,
        ),
        ({"getVariableData": [17]}, ErrorCode.TYPE_CONSTRAINT_VIOLATION),
    ],
)
def test_malformed_get_variables(dm: DeviceModel, payload: dict[str, Any], code: ErrorCode) -> None:
    with pytest.raises(OCPPError) as info:
        handle_get_variables(dm, payload)
    assert info.value.code is code
    assert info.value.description


def test_set_variables_without_value_is_a_callerror(dm: DeviceModel) -> None:
    payload = {
        "setVariableData": [{"component": {"name": "AuthCtrlr"}, "variable": {"name": "Enabled"}}]
    }
    with pytest.raises(OCPPError) as info:
        handle_set_variables(dm, payload)
    assert info.value.code is ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION
    assert "attributeValue" in info.value.description


def _union(parts: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (json.dumps(d["component"], sort_keys=True), json.dumps(d["variable"], sort_keys=True))
        for part in parts
        for d in part.get("reportData", [])
    ]


def test_full_inventory_parts(dm: DeviceModel) -> None:
    response, parts = handle_get_base_report(
        dm, {"requestId": 7, "reportBase": "FullInventory"}, now=NOW
    )
    assert response == {"status": "Accepted"}  # B07.FR.01
    _validator("GetBaseReportResponse").validate(response)
    expected = [
        (json.dumps(c, sort_keys=True), json.dumps(v, sort_keys=True)) for c, v in dm.variables()
    ]
    assert _union(parts) == expected
    assert len(parts) == -(-len(expected) // 100)  # ItemsPerMessage[GetReport] = 100
    for seq, part in enumerate(parts):
        NOTIFY_REPORT.validate(part)
        assert part["requestId"] == 7  # B07.FR.04
        assert part["seqNo"] == seq  # B07.FR.10
        assert part["tbc"] is (seq < len(parts) - 1)
        assert part["generatedAt"] == "2026-01-01T00:00:00.000Z"


@pytest.mark.parametrize("base", ["ConfigurationInventory", "SummaryInventory"])
def test_other_base_reports(dm: DeviceModel, base: str) -> None:
    response, parts = handle_get_base_report(dm, {"requestId": 1, "reportBase": base}, now=NOW)
    assert response["status"] == "Accepted"
    assert parts and all(NOTIFY_REPORT.is_valid(p) for p in parts)


def test_unsupported_base_report(dm: DeviceModel) -> None:
    response, parts = handle_get_base_report(dm, {"requestId": 1, "reportBase": "Galaxy"}, now=NOW)
    assert response["status"] == "NotSupported"  # B07.FR.02
    assert parts == []  # B07.FR.05
    _validator("GetBaseReportResponse").validate(response)


def test_get_report_statuses(dm: DeviceModel) -> None:
    response, parts = handle_get_report(
        dm,
        {"requestId": 3, "componentVariable": [{"component": {"name": "TxCtrlr"}}]},
        now=NOW,
    )
    assert response == {"status": "Accepted"}  # B08.FR.01
    assert len(parts) == 1 and parts[0]["requestId"] == 3
    assert {d["component"]["name"] for d in parts[0]["reportData"]} == {"TxCtrlr"}
    NOTIFY_REPORT.validate(parts[0])

    response, parts = handle_get_report(
        dm, {"requestId": 4, "componentCriteria": ["Problem"]}, now=NOW
    )
    assert response["status"] == "EmptyResultSet"  # B08.FR.15
    assert parts == []
    _validator("GetReportResponse").validate(response)

    response, parts = handle_get_report(
        dm, {"requestId": 5, "componentCriteria": ["Shiny"]}, now=NOW
    )
    assert response["status"] == "NotSupported"  # B08.FR.02
    assert parts == []

    response, parts = handle_get_report(
        dm, {"requestId": 6, "componentCriteria": ["Available"]}, now=NOW
    )
    assert response["status"] == "Accepted"
    assert all(NOTIFY_REPORT.is_valid(p) for p in parts)


def test_get_report_limits(tmp_path: Path) -> None:
    model = _small(tmp_path, ItemsPerMessage__GetReport=2)
    try:
        cvs = [{"component": {"name": "TxCtrlr"}}] * 3
        with pytest.raises(OCPPError) as info:  # B08.FR.17
            handle_get_report(model, {"requestId": 1, "componentVariable": cvs}, now=NOW)
        assert info.value.code is ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION
        with pytest.raises(OCPPError):
            handle_get_report(model, {"componentVariable": cvs[:1]}, now=NOW)  # no requestId
    finally:
        model.close()


def test_notify_report_parts_split_by_items_and_bytes() -> None:
    data = [
        {
            "component": {"name": "C"},
            "variable": {"name": f"V{i}"},
            "variableAttribute": [{"type": "Actual", "value": "x" * 50}],
        }
        for i in range(10)
    ]
    parts = notify_report_parts(9, data, 4, "2026-01-01T00:00:00.000Z")
    assert [len(p["reportData"]) for p in parts] == [4, 4, 2]
    assert [p["tbc"] for p in parts] == [True, True, False]
    assert [p["seqNo"] for p in parts] == [0, 1, 2]
    by_bytes = notify_report_parts(9, data, 100, "2026-01-01T00:00:00.000Z", bytes_per_message=600)
    assert len(by_bytes) > 1
    for part in by_bytes:
        NOTIFY_REPORT.validate(part)
        frame = json.dumps([2, "0" * 36, "NotifyReport", part], separators=(",", ":"))
        assert len(frame.encode()) <= 600
    assert [d for p in by_bytes for d in p["reportData"]] == data
    empty = notify_report_parts(9, [], 4, "2026-01-01T00:00:00.000Z")
    assert empty == [
        {"requestId": 9, "generatedAt": "2026-01-01T00:00:00.000Z", "seqNo": 0, "tbc": False}
    ]
    NOTIFY_REPORT.validate(empty[0])
    with pytest.raises(ValueError, match="items_per_message"):
        notify_report_parts(9, data, 0, "2026-01-01T00:00:00.000Z")
