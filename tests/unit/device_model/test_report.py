"""Device-model reports: GetBaseReport selections (B07) and GetReport filters (B08)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from device_model import DeviceModel

EVSES = {1: [1], 2: [1, 2]}


def _report_data_validator() -> jsonschema.Draft7Validator:
    text = (resources.files("ocpp") / "v201" / "schemas" / "NotifyReportRequest.json").read_text()
    schema = json.loads(text)
    item = dict(schema["definitions"]["ReportDataType"], definitions=schema["definitions"])
    return jsonschema.Draft7Validator(item)


@pytest.fixture
def dm(tmp_path: Path) -> Any:
    model = DeviceModel.open(tmp_path / "dm.db", EVSES)
    yield model
    model.close()


def _pairs(data: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (json.dumps(d["component"], sort_keys=True), json.dumps(d["variable"], sort_keys=True))
        for d in data
    ]


def test_full_inventory_is_every_variable_with_characteristics(dm: DeviceModel) -> None:
    dm.set("SecurityCtrlr", "BasicAuthPassword", "p" * 20)
    data = dm.report(base="FullInventory")
    expected = [
        (json.dumps(c, sort_keys=True), json.dumps(v, sort_keys=True)) for c, v in dm.variables()
    ]
    assert _pairs(data) == expected
    validator = _report_data_validator()
    for item in data:
        validator.validate(item)
        assert "variableCharacteristics" in item  # B07.FR.08
    by_name = {(d["component"]["name"], d["variable"]["name"]): d for d in data}
    password = by_name[("SecurityCtrlr", "BasicAuthPassword")]["variableAttribute"][0]
    assert "value" not in password and password["mutability"] == "WriteOnly"
    unset = by_name[("AuthCtrlr", "MasterPassGroupId")]["variableAttribute"][0]
    assert unset == {
        "type": "Actual",
        "mutability": "ReadWrite",
        "persistent": True,
        "constant": False,
    }
    hb = by_name[("OCPPCommCtrlr", "HeartbeatInterval")]
    assert hb["variableAttribute"][0]["value"] == "300"
    assert hb["variableCharacteristics"] == {
        "dataType": "integer",
        "unit": "s",
        "minLimit": 1.0,
        "maxLimit": 86400.0,
        "supportsMonitoring": True,  # a CSMS may set monitors on it (N04)
    }
    connectors = [d["component"] for d in data if d["component"]["name"] == "Connector"]
    assert {"name": "Connector", "evse": {"id": 2, "connectorId": 2}} in connectors


def test_configuration_inventory_is_what_the_operator_can_set(dm: DeviceModel) -> None:
    data = dm.report(base="ConfigurationInventory")
    assert data
    for item in data:
        assert any(a["mutability"] != "ReadOnly" for a in item["variableAttribute"])
        assert "variableCharacteristics" in item  # B07.FR.07
    names = {(d["component"]["name"], d["variable"]["name"]) for d in data}
    assert ("OCPPCommCtrlr", "HeartbeatInterval") in names
    assert ("SecurityCtrlr", "BasicAuthPassword") in names
    assert ("ChargingStation", "VendorName") not in names


def test_summary_inventory_reports_availability(dm: DeviceModel) -> None:
    dm.set("Connector", "AvailabilityState", "Faulted", evse=2, connector=2)
    data = dm.report(base="SummaryInventory")
    states = {
        (d["component"]["name"], json.dumps(d["component"].get("evse"))): d["variableAttribute"][0][
            "value"
        ]
        for d in data
    }
    assert states[("ChargingStation", "null")] == "Available"
    assert states[("EVSE", json.dumps({"id": 1}))] == "Available"
    assert states[("Connector", json.dumps({"id": 2, "connectorId": 2}))] == "Faulted"
    assert len(data) == 1 + 2 + 3
    with pytest.raises(ValueError, match="unknown reportBase"):
        dm.report(base="Everything")


def test_get_report_component_variable_filters(dm: DeviceModel) -> None:
    def names(cvs: list[dict[str, Any]]) -> list[tuple[str, Any, str, Any]]:
        return [
            (
                d["component"]["name"],
                d["component"].get("evse"),
                d["variable"]["name"],
                d["variable"].get("instance"),
            )
            for d in dm.report(component_variables=cvs)
        ]

    # B08.FR.20: no variable -> every variable of the component
    assert len(names([{"component": {"name": "TxCtrlr"}}])) == 7
    # B08.FR.21: no instance -> every instance
    dd = names(
        [{"component": {"name": "DeviceDataCtrlr"}, "variable": {"name": "ItemsPerMessage"}}]
    )
    assert [n[3] for n in dd] == ["GetReport", "GetVariables", "SetVariables"]
    one = names(
        [
            {
                "component": {"name": "DeviceDataCtrlr"},
                "variable": {"name": "ItemsPerMessage", "instance": "GetReport"},
            }
        ]
    )
    assert [n[3] for n in one] == ["GetReport"]
    # B08.FR.23: no evse -> every EVSE; B08.FR.22: evse without connectorId -> every connector
    assert (
        len(names([{"component": {"name": "Connector"}, "variable": {"name": "ConnectorType"}}]))
        == 3
    )
    on_evse2 = names(
        [
            {
                "component": {"name": "Connector", "evse": {"id": 2}},
                "variable": {"name": "ConnectorType"},
            }
        ]
    )
    assert [n[1] for n in on_evse2] == [{"id": 2, "connectorId": 1}, {"id": 2, "connectorId": 2}]
    exact = names(
        [
            {
                "component": {"name": "Connector", "evse": {"id": 2, "connectorId": 2}},
                "variable": {"name": "ConnectorType"},
            }
        ]
    )
    assert len(exact) == 1
    assert names([{"component": {"name": "Nope"}}]) == []


def test_get_report_criteria(dm: DeviceModel) -> None:
    available = dm.report(criteria=["Available"])
    components = {d["component"]["name"] for d in available}
    # B08.FR.08: Available=true or no Available variable at all
    assert {"ChargingStation", "EVSE", "Connector", "OCPPCommCtrlr", "AuthCacheCtrlr"} <= components
    assert dm.report(criteria=["Problem"]) == []  # B08.FR.10: nothing has Problem=true
    enabled = {d["component"]["name"] for d in dm.report(criteria=["Enabled"])}
    dm.set("AuthCacheCtrlr", "Enabled", False)
    enabled_after = {d["component"]["name"] for d in dm.report(criteria=["Enabled"])}
    assert enabled - enabled_after == {"AuthCacheCtrlr"}
    # B08.FR.13: several criteria are OR-ed; B08.FR.05: criteria AND componentVariable
    both = dm.report(
        criteria=["Problem", "Enabled"],
        component_variables=[{"component": {"name": "AuthCacheCtrlr"}}],
    )
    assert both == []
    combined = dm.report(
        criteria=["Available"], component_variables=[{"component": {"name": "AuthCacheCtrlr"}}]
    )
    assert {d["component"]["name"] for d in combined} == {"AuthCacheCtrlr"}
    with pytest.raises(ValueError, match="unknown componentCriteria"):
        dm.report(criteria=["Shiny"])


def test_reported_values_are_truncated_to_reporting_value_size(tmp_path: Path) -> None:
    model = DeviceModel.open(tmp_path / "dm.db", EVSES, {"DeviceDataCtrlr.ReportingValueSize": 4})
    try:
        [item] = model.report(
            component_variables=[
                {"component": {"name": "ChargingStation"}, "variable": {"name": "Model"}}
            ]
        )
        assert item["variableAttribute"][0]["value"] == "ocpp"
        [result] = model.get_variables(
            [{"component": {"name": "ChargingStation"}, "variable": {"name": "Model"}}]
        )
        assert result["attributeValue"] == "ocpp"
    finally:
        model.close()
