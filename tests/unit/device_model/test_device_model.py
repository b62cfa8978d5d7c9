"""Device model: reads, internal writes, GetVariables (B06) / SetVariables (B05), subscriptions."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from device_model import DeviceModel, MalformedRequest, VariableChange, load_definitions
from device_model.values import InvalidValue, check_value
from ocpp_station.clock import ManualClock

EVSES = {1: [1], 2: [1, 2]}


def _official(name: str) -> jsonschema.Draft7Validator:
    text = (resources.files("ocpp") / "v201" / "schemas" / f"{name}.json").read_text()
    return jsonschema.Draft7Validator(json.loads(text))


@pytest.fixture
def dm(tmp_path: Path) -> Any:
    model = DeviceModel.open(tmp_path / "dm.db", EVSES)
    yield model
    model.close()


def gv(component: str, variable: str, **kw: Any) -> dict[str, Any]:
    comp: dict[str, Any] = {"name": component}
    if "evse" in kw:
        comp["evse"] = kw.pop("evse")
    if "cinst" in kw:
        comp["instance"] = kw.pop("cinst")
    var: dict[str, Any] = {"name": variable}
    if "vinst" in kw:
        var["instance"] = kw.pop("vinst")
    item: dict[str, Any] = {"component": comp, "variable": var}
    if "attr" in kw:
        item["attributeType"] = kw.pop("attr")
    if "value" in kw:
        item["attributeValue"] = kw.pop("value")
    assert not kw
    return item


# ---------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("component", "variable", "text", "normalised"),
    [
        ("OCPPCommCtrlr", "HeartbeatInterval", "042", "42"),
        ("AuthCtrlr", "Enabled", "TRUE", "true"),
        ("SmartChargingCtrlr", "LimitChangeSignificance", "2.5", "2.5"),
        ("TxCtrlr", "TxStopPoint", "Authorized, EVConnected", "Authorized,EVConnected"),
        ("AlignedDataCtrlr", "TxEndedMeasurands", "", ""),
        ("TxCtrlr", "TxStartPoint", "Authorized,EVConnected", "Authorized,EVConnected"),
        ("ClockCtrlr", "DateTime", "2026-01-01T10:00:00.5+01:00", "2026-01-01T10:00:00.5+01:00"),
        # A00.FR.205 with the 2025-01 errata: any characters, 16 up to maxLimit (64)
        ("SecurityCtrlr", "BasicAuthPassword", "sixteen chars pw!", "sixteen chars pw!"),
        ("SecurityCtrlr", "BasicAuthPassword", "x" * 64, "x" * 64),
    ],
)
def test_check_value_accepts_and_normalises(
    component: str, variable: str, text: str, normalised: str
) -> None:
    var = load_definitions().by_key[(component, None, variable, None)]
    assert check_value(var, text) == normalised


@pytest.mark.parametrize(
    ("component", "variable", "text", "reason"),
    [
        ("OCPPCommCtrlr", "HeartbeatInterval", "1.5", "InvalidValue"),
        ("OCPPCommCtrlr", "HeartbeatInterval", "0", "ValueTooLow"),
        ("OCPPCommCtrlr", "HeartbeatInterval", "86401", "ValueTooHigh"),
        ("SmartChargingCtrlr", "LimitChangeSignificance", "nan", "InvalidValue"),
        ("AuthCtrlr", "Enabled", "yes", "InvalidValue"),
        ("ClockCtrlr", "DateTime", "2026-01-01T10:00:00", "InvalidValue"),  # no offset
        ("ClockCtrlr", "DateTime", "2026-13-01T10:00:00Z", "InvalidValue"),
        ("AuthCacheCtrlr", "Policy", "CUSTOM", "InvalidValue"),  # not in valuesList
        ("TxCtrlr", "TxStopPoint", "Authorized,Authorized", "InvalidValue"),
        ("ClockCtrlr", "TimeSource", "", "InvalidValue"),  # SequenceList needs an entry
        ("SecurityCtrlr", "BasicAuthPassword", "short", "ValueOutOfRange"),
        ("SecurityCtrlr", "BasicAuthPassword", "x" * 65, "ValueOutOfRange"),  # maxLimit 64
        ("ClockCtrlr", "TimeSource", "NTP", "InvalidValue"),  # the only source is Heartbeat
    ],
)
def test_check_value_refuses(component: str, variable: str, text: str, reason: str) -> None:
    var = load_definitions().by_key[(component, None, variable, None)]
    with pytest.raises(InvalidValue) as info:
        check_value(var, text)
    assert info.value.reason == reason
    assert info.value.message


def test_definitions_parsed_once_per_process() -> None:
    assert load_definitions() is load_definitions()


# ---------------------------------------------------------------- reads and internal writes


def test_defaults_and_typed_getters(dm: DeviceModel) -> None:
    assert dm.get_int("OCPPCommCtrlr", "HeartbeatInterval") == 300
    assert dm.get_int("OCPPCommCtrlr", "MessageTimeout", variable_instance="Default") == 30
    assert dm.get_bool("AuthCtrlr", "Enabled") is True
    assert dm.get_float("SmartChargingCtrlr", "LimitChangeSignificance") == 10.0
    assert dm.get_list("SmartChargingCtrlr", "RateUnit") == ["A", "W"]
    assert dm.get_str("Connector", "ConnectorType", evse=2, connector=2) == "sType2"
    assert dm.get("EVSE", "Power", evse=2, attribute="Actual") == "0"
    # unknown or unset: None / default / KeyError
    assert dm.get("EVSE", "Power", evse=3) is None
    assert dm.get("EVSE", "Power") is None  # an EVSE-level variable needs its evse
    assert dm.get("Nope", "Nothing") is None
    assert dm.get("OCPPCommCtrlr", "HeartbeatInterval", attribute="Target") is None
    assert dm.get_int("Nope", "Nothing", default=7) == 7
    assert dm.get_list("AlignedDataCtrlr", "TxEndedMeasurands") == []
    with pytest.raises(KeyError, match="OrganizationName"):
        dm.get_str("SecurityCtrlr", "OrganizationName")


def test_typed_getters_share_one_path(dm: DeviceModel, caplog: pytest.LogCaptureFixture) -> None:
    # text that does not parse as the type: a warning, then the default (or KeyError)
    assert dm.get_int("Connector", "ConnectorType", evse=1, connector=1, default=5) == 5
    assert "is not an integer" in caplog.text
    assert dm.get_float("TxCtrlr", "TxStopPoint", default=1.5) == 1.5
    assert dm.get_bool("Connector", "ConnectorType", evse=1, connector=1, default=False) is False
    with pytest.raises(KeyError, match=r"ConnectorType \{'evse': 1, 'connector': 1\}"):
        dm.get_bool("Connector", "ConnectorType", evse=1, connector=1)
    # None for an address part means "absent", as when it is left out
    assert dm.get_int("OCPPCommCtrlr", "HeartbeatInterval", evse=None, connector=None) == 300
    # a misspelt address keyword is an error, not a silent None
    with pytest.raises(TypeError, match="evse_id"):
        dm.get_int("EVSE", "Power", evse_id=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="evse_id"):
        dm.get("EVSE", "Power", evse_id=1)  # type: ignore[call-arg]


def test_internal_set_ignores_mutability_but_checks_values(dm: DeviceModel) -> None:
    # AvailabilityState is ReadOnly for the CSMS but the station keeps it up to date.
    assert dm.set("EVSE", "AvailabilityState", "Occupied", evse=2) == "Accepted"
    assert dm.get("EVSE", "AvailabilityState", evse=2) == "Occupied"
    assert dm.get("EVSE", "AvailabilityState", evse=1) == "Available"
    assert dm.set("EVSE", "AvailabilityState", "Charging", evse=2) == "Rejected"
    assert dm.set("EVSE", "Power", 23000.0, evse=1) == "Rejected"  # above maxLimit
    assert dm.set("EVSE", "Power", 7400.5, evse=1) == "Accepted"
    assert dm.get_float("EVSE", "Power", evse=1) == 7400.5
    assert dm.set("TxCtrlr", "TxStartPoint", ["EVConnected", "Authorized"]) == "Accepted"
    assert dm.get("TxCtrlr", "TxStartPoint") == "EVConnected,Authorized"
    assert dm.set("AuthCtrlr", "Enabled", False) == "Accepted"
    assert dm.get("AuthCtrlr", "Enabled") == "false"
    assert dm.set("AuthCtrlr", "Enabled", {"no": 1}) == "Rejected"  # type: ignore[arg-type]
    assert dm.set("EVSE", "Power", 1, evse=9) == "UnknownComponent"
    assert dm.set("Nope", "X", 1) == "UnknownComponent"
    assert dm.set("AuthCtrlr", "Nope", 1) == "UnknownVariable"
    assert dm.set("AuthCtrlr", "Enabled", True, attribute="MaxSet") == "NotSupportedAttributeType"
    assert dm.set("ChargingStation", "Model", "Other") == "Rejected"  # constant: config only
    assert dm.set("OCPPCommCtrlr", "NetworkConfigurationPriority", "3,0") == "Rejected"  # no 3


def test_clock_ctrlr_datetime_reads_the_clock(tmp_path: Path) -> None:
    clock = ManualClock(1_767_225_600.0)
    model = DeviceModel.open(tmp_path / "dm.db", EVSES, clock=clock)
    try:
        assert model.get("ClockCtrlr", "DateTime") == "2026-01-01T00:00:00.000Z"
        [result] = model.get_variables([gv("ClockCtrlr", "DateTime")])
        assert result["attributeValue"] == "2026-01-01T00:00:00.000Z"
    finally:
        model.close()


# ---------------------------------------------------------------- GetVariables (B06)


def test_get_variables_statuses(dm: DeviceModel) -> None:
    dm.set("SecurityCtrlr", "BasicAuthPassword", "a" * 20)
    request = [
        gv("OCPPCommCtrlr", "HeartbeatInterval"),
        gv("OCPPCommCtrlr", "MessageTimeout", vinst="Default", attr="Actual"),
        gv("Connector", "ConnectorType", evse={"id": 2, "connectorId": 2}),
        gv("NoSuchCtrlr", "Enabled"),
        gv("EVSE", "Power", evse={"id": 3}),
        gv("Connector", "ConnectorType", evse={"id": 2}),  # connector missing
        gv("OCPPCommCtrlr", "NoSuchVariable"),
        gv("OCPPCommCtrlr", "MessageTimeout"),  # B06.FR.15: instance required
        gv("OCPPCommCtrlr", "HeartbeatInterval", attr="Target"),
        gv("SecurityCtrlr", "BasicAuthPassword"),
        gv("SecurityCtrlr", "OrganizationName"),  # unset
        gv("OCPPCommCtrlr", "HeartbeatInterval", cinst=""),  # B06.FR.15: "" is no instance
    ]
    results = dm.get_variables(request)
    assert len(results) == len(request)  # B06.FR.01
    statuses = [r["attributeStatus"] for r in results]
    assert statuses == [
        "Accepted",
        "Accepted",
        "Accepted",
        "UnknownComponent",
        "UnknownComponent",
        "UnknownComponent",
        "UnknownVariable",
        "UnknownVariable",
        "NotSupportedAttributeType",
        "Rejected",
        "Accepted",
        "Accepted",
    ]
    assert [r.get("attributeValue") for r in results[:3]] == ["300", "30", "sType2"]
    for r, req in zip(results, request):
        assert r["component"] == req["component"] and r["variable"] == req["variable"]  # B06.FR.02
        assert r["attributeType"] == req.get("attributeType", "Actual")  # B06.FR.03/11
    for r in results[3:10]:  # B06.FR.06/07/08 omit the value; B06.FR.09 WriteOnly refused
        assert "attributeValue" not in r
        assert r["attributeStatusInfo"]["reasonCode"]
        assert r["attributeStatusInfo"]["additionalInfo"]
    assert "EVSE 3" in results[4]["attributeStatusInfo"]["additionalInfo"]
    assert results[9]["attributeStatusInfo"]["reasonCode"] == "WriteOnly"
    assert results[10]["attributeValue"] == ""  # B06.FR.13
    _official("GetVariablesResponse").validate({"getVariableResult": results})


def test_get_variables_malformed_item_raises(dm: DeviceModel) -> None:
    with pytest.raises(MalformedRequest) as info:
        dm.get_variables([gv("AuthCtrlr", "Enabled"), {"variable": {"name": "Enabled"}}])
    assert info.value.code == "OccurrenceConstraintViolation"
    assert "getVariableData[1].component" in info.value.message


# ---------------------------------------------------------------- SetVariables (B05)


def test_set_variables_statuses(dm: DeviceModel) -> None:
    request = [
        gv("OCPPCommCtrlr", "HeartbeatInterval", value="120"),
        gv("NoSuchCtrlr", "Enabled", value="true"),
        gv("AuthCtrlr", "NoSuchVariable", value="true"),
        gv("AuthCtrlr", "Enabled", attr="MinSet", value="true"),
        gv("OCPPCommCtrlr", "HeartbeatInterval", value="soon"),  # B05.FR.07
        gv("OCPPCommCtrlr", "ResetRetries", value="11"),  # B05.FR.08: maxLimit 10
        gv("AuthCacheCtrlr", "Policy", value="CUSTOM"),  # not in valuesList
        gv("SecurityCtrlr", "SecurityProfile", value="2"),  # B05.FR.09: ReadOnly
        gv("ChargingStation", "VendorName", value="Acme"),  # ReadOnly constant
        gv("OCPPCommCtrlr", "ActiveNetworkProfile", value="1"),  # ReadOnly: the station's
        gv("SecurityCtrlr", "BasicAuthPassword", value="0123456789abcdef"),  # WriteOnly: settable
        gv("TxCtrlr", "TxStartPoint", value="EVConnected,Authorized"),
    ]
    results = dm.set_variables(request)
    assert len(results) == len(request)  # B05.FR.01
    assert [r["attributeStatus"] for r in results] == [
        "Accepted",
        "UnknownComponent",
        "UnknownVariable",
        "NotSupportedAttributeType",
        "Rejected",
        "Rejected",
        "Rejected",
        "Rejected",
        "Rejected",
        "Rejected",
        "Accepted",
        "Accepted",
    ]
    reasons = [r.get("attributeStatusInfo", {}).get("reasonCode") for r in results]
    assert reasons[4:10] == [
        "InvalidValue",
        "ValueTooHigh",
        "InvalidValue",
        "ReadOnly",
        "ReadOnly",
        "ReadOnly",
    ]
    assert "maxLimit 10" in results[5]["attributeStatusInfo"]["additionalInfo"]
    for r, req in zip(results, request):
        assert r["component"] == req["component"] and r["variable"] == req["variable"]  # B05.FR.02
        assert r["attributeType"] == req.get("attributeType", "Actual")  # B05.FR.03/12
    assert dm.get_int("OCPPCommCtrlr", "HeartbeatInterval") == 120
    assert dm.get("OCPPCommCtrlr", "ResetRetries") == "0"
    assert dm.get("SecurityCtrlr", "SecurityProfile") == "1"
    assert dm.get("SecurityCtrlr", "BasicAuthPassword") == "0123456789abcdef"
    assert dm.get("OCPPCommCtrlr", "ActiveNetworkProfile") == "0"
    _official("SetVariablesResponse").validate({"setVariableResult": results})


def test_set_variables_reboot_required(tmp_path: Path) -> None:
    """B10.FR.01/B05: a variable with ``rebootRequired`` is stored and answered RebootRequired
    (definitions of an integrator's own, here a copy with one such variable)."""
    folder = tmp_path / "defs"
    shutil.copytree(Path(__file__).parents[3] / "device_model" / "definitions", folder)
    path = folder / "ocpp_comm_ctrlr.json"
    data = json.loads(path.read_text())
    var = next(v for v in data["variables"] if v["name"] == "NetworkConfigurationPriority")
    var["rebootRequired"] = True
    var["characteristics"]["valuesList"] = "0,1"
    var["attributes"][0].update(mutability="ReadWrite", constant=False)
    path.write_text(json.dumps(data))
    model = DeviceModel.open(tmp_path / "dm.db", EVSES, definitions=folder)
    try:
        [result] = model.set_variables(
            [gv("OCPPCommCtrlr", "NetworkConfigurationPriority", value="1,0")]
        )
        assert result["attributeStatus"] == "RebootRequired"
        assert model.get("OCPPCommCtrlr", "NetworkConfigurationPriority") == "1,0"
    finally:
        model.close()


def test_set_variables_value_size_limit(dm: DeviceModel) -> None:
    long_value = "x" * 1001  # DeviceDataCtrlr.ConfigurationValueSize = 1000
    [result] = dm.set_variables([gv("AuthCtrlr", "MasterPassGroupId", value=long_value)])
    assert result["attributeStatus"] == "Rejected"
    assert result["attributeStatusInfo"]["reasonCode"] == "TooLargeElement"


def test_set_variables_same_value_twice_in_one_request(dm: DeviceModel) -> None:
    changes: list[VariableChange] = []
    dm.subscribe(changes.append)
    results = dm.set_variables(
        [
            gv("OCPPCommCtrlr", "HeartbeatInterval", value="100"),
            gv("OCPPCommCtrlr", "HeartbeatInterval", value="200"),
        ]
    )
    assert [r["attributeStatus"] for r in results] == ["Accepted", "Accepted"]
    assert dm.get("OCPPCommCtrlr", "HeartbeatInterval") == "200"
    assert [(c.old, c.new) for c in changes] == [("300", "100"), ("100", "200")]


def test_set_variables_storage_failure_rejects(dm: DeviceModel) -> None:
    dm._store.close()  # the file is gone from under us: a technical failure
    [result] = dm.set_variables([gv("OCPPCommCtrlr", "HeartbeatInterval", value="100")])
    assert result["attributeStatus"] == "Rejected"  # B05.FR.09
    assert result["attributeStatusInfo"]["reasonCode"] == "InternalError"
    assert dm.get("OCPPCommCtrlr", "HeartbeatInterval") == "300"


def test_set_of_the_value_already_there_touches_no_storage(dm: DeviceModel) -> None:
    """Nothing to store and no change to report: Accepted even while the store cannot write
    (most of a station's writes at start are of this kind); a new value still needs the store."""
    dm._store.close()
    assert dm.set("OCPPCommCtrlr", "HeartbeatInterval", 300) == "Accepted"
    assert dm.set("Connector", "AvailabilityState", "Available", evse=1, connector=1) == "Accepted"
    assert dm.set("OCPPCommCtrlr", "HeartbeatInterval", 301) == "Rejected"
    assert dm.get("OCPPCommCtrlr", "HeartbeatInterval") == "300"


# ---------------------------------------------------------------- subscriptions


def test_subscribe_fires_for_set_and_set_variables(dm: DeviceModel) -> None:
    changes: list[VariableChange] = []
    unsubscribe = dm.subscribe(changes.append)
    dm.set("Connector", "AvailabilityState", "Occupied", evse=2, connector=1)
    dm.set_variables([gv("OCPPCommCtrlr", "HeartbeatInterval", value="60")], source="csms")
    dm.set_variables([gv("OCPPCommCtrlr", "HeartbeatInterval", value="soon")])  # rejected
    dm.set("OCPPCommCtrlr", "HeartbeatInterval", 60)  # no change: no event
    assert changes == [
        VariableChange(
            component={"name": "Connector", "evse": {"id": 2, "connectorId": 1}},
            variable={"name": "AvailabilityState"},
            attribute="Actual",
            old="Available",
            new="Occupied",
            source="station",
        ),
        VariableChange(
            component={"name": "OCPPCommCtrlr"},
            variable={"name": "HeartbeatInterval"},
            attribute="Actual",
            old="300",
            new="60",
            source="csms",
        ),
    ]
    unsubscribe()
    dm.set("OCPPCommCtrlr", "HeartbeatInterval", 61)
    assert len(changes) == 2


def test_subscriber_sees_committed_value_and_failures_are_contained(dm: DeviceModel) -> None:
    seen: list[str | None] = []

    def broken(change: VariableChange) -> None:
        raise RuntimeError("subscriber bug")

    dm.subscribe(broken)
    dm.subscribe(lambda c: seen.append(dm.get("AuthCtrlr", "Enabled")))
    assert dm.set("AuthCtrlr", "Enabled", False, source="local") == "Accepted"
    assert seen == ["false"]


# ---------------------------------------------------------------- multi-attribute variables


def test_target_and_limits_attributes(tmp_path: Path) -> None:
    defs_dir = tmp_path / "defs"
    shutil.copytree(Path(str(resources.files("device_model.definitions"))), defs_dir)
    (defs_dir / "fan.json").write_text(
        json.dumps(
            {
                "name": "Fan",
                "scope": "station",
                "variables": [
                    {
                        "name": "FanSpeed",
                        "characteristics": {"dataType": "decimal", "unit": "RPM", "minLimit": 0},
                        "attributes": [
                            {"type": "Actual", "mutability": "ReadOnly", "persistent": False},
                            {"type": "Target", "mutability": "ReadWrite"},
                            {"type": "MaxSet", "mutability": "ReadWrite", "default": "5000"},
                        ],
                    }
                ],
            }
        )
    )
    model = DeviceModel.open(tmp_path / "dm.db", EVSES, definitions=defs_dir)
    try:
        results = model.get_variables(
            [gv("Fan", "FanSpeed", attr="Target"), gv("Fan", "FanSpeed", attr="MaxSet")]
        )
        assert [r["attributeValue"] for r in results] == ["", "5000"]  # B06.FR.13
        [set_result] = model.set_variables([gv("Fan", "FanSpeed", attr="Target", value="1200")])
        assert set_result == {
            "attributeStatus": "Accepted",
            "attributeType": "Target",
            "component": {"name": "Fan"},
            "variable": {"name": "FanSpeed"},
        }
        assert model.get_float("Fan", "FanSpeed", attribute="Target") == 1200.0
        [ro] = model.set_variables([gv("Fan", "FanSpeed", value="1")])
        assert ro["attributeStatus"] == "Rejected"
        [minset] = model.set_variables([gv("Fan", "FanSpeed", attr="MinSet", value="1")])
        assert minset["attributeStatus"] == "NotSupportedAttributeType"
    finally:
        model.close()


def test_a_guard_refuses_values_only_its_owner_knows_are_wrong(dm: DeviceModel) -> None:
    """``guard``: the owner of a variable refuses a well-formed value (here as the networking
    block does for a priority naming an empty slot, B10.FR.02), through SetVariables and
    through an internal write; other variables and other attributes are not affected."""
    seen: list[str] = []

    def check(text: str) -> tuple[str, str] | None:
        seen.append(text)
        return ("InvalidNetworkConf", "slot 2 is empty") if "2" in text else None

    remove = dm.guard("OCPPCommCtrlr", "NetworkConfigurationPriority", check)
    [refused, allowed] = dm.set_variables(
        [
            gv("OCPPCommCtrlr", "NetworkConfigurationPriority", value="2,0"),
            gv("OCPPCommCtrlr", "HeartbeatInterval", value="77"),
        ]
    )
    assert refused["attributeStatus"] == "Rejected"
    assert refused["attributeStatusInfo"] == {
        "reasonCode": "InvalidNetworkConf",
        "additionalInfo": "slot 2 is empty",
    }
    assert allowed["attributeStatus"] == "Accepted"
    assert dm.get("OCPPCommCtrlr", "NetworkConfigurationPriority") == "0"
    assert dm.set("OCPPCommCtrlr", "NetworkConfigurationPriority", "0,2") == "Rejected"
    assert dm.set("OCPPCommCtrlr", "NetworkConfigurationPriority", "1,0") == "Accepted"
    assert dm.get("OCPPCommCtrlr", "NetworkConfigurationPriority") == "1,0"
    assert dm.set("OCPPCommCtrlr", "NetworkConfigurationPriority", "1,0") == "Accepted"  # again
    assert seen == ["2,0", "0,2", "1,0", "1,0"]  # the guard hears an unchanged value too
    remove()
    assert dm.set("OCPPCommCtrlr", "NetworkConfigurationPriority", "2,0") == "Accepted"


def test_an_unchanged_value_is_accepted_and_reported_to_no_one(dm: DeviceModel) -> None:
    """An internal write of the value a variable holds changes nothing: Accepted without a
    check, a store write or a subscriber call (most writes of a start); a changed one is
    checked and reported as ever, and a bad one is refused even when it looks the same."""
    heard: list[Any] = []
    dm.subscribe(heard.append)
    assert dm.set("OCPPCommCtrlr", "HeartbeatInterval", 77) == "Accepted"
    assert dm.set("OCPPCommCtrlr", "HeartbeatInterval", "77") == "Accepted"
    assert dm.set("OCPPCommCtrlr", "HeartbeatInterval", 77) == "Accepted"
    assert [change.new for change in heard] == ["77"]
    assert dm.set("OCPPCommCtrlr", "HeartbeatInterval", "077") == "Accepted"  # normalised: same
    assert dm.set("OCPPCommCtrlr", "HeartbeatInterval", [1]) == "Rejected"  # type: ignore[list-item]
    assert [change.new for change in heard] == ["77"]


def test_a_plain_read_is_the_addressed_read_of_the_actual_value(dm: Any) -> None:
    """``get(component, variable)`` of a station-wide variable takes a one-look-up shortcut
    (``Definitions.plain``): it gives what the addressed read of its Actual value gives, for
    every variable, set or not; an EVSE-wide or instanced variable is not read that way."""
    assert dm.set("OCPPCommCtrlr", "HeartbeatInterval", 77) == "Accepted"
    station_wide = [
        v for v in dm.definitions.variables if v.scope == "station" and "Actual" in v.attributes
    ]
    assert len(station_wide) > 50
    for var in station_wide:
        where = {"component_instance": var.component_instance, "variable_instance": var.instance}
        slow = dm.get(var.component, var.name, attribute="Actual", **where)
        if var.component_instance is None and var.instance is None:
            assert dm.get(var.component, var.name) == slow, var.key
    assert dm.get("OCPPCommCtrlr", "HeartbeatInterval") == "77"
    assert dm.get("EVSE", "AvailabilityState") is None  # (needs its evse)
    assert dm.get("EVSE", "AvailabilityState", evse=1) is not None
    assert dm.get("NoSuchComponent", "NoSuchVariable") is None
