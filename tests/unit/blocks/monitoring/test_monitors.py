"""SetVariableMonitoring rules (N04), ClearVariableMonitoring (N06) and the monitoring bases (N03)
on a :class:`MonitorSet`, with the packaged definitions."""

from __future__ import annotations

from typing import Any

import pytest

from device_model import load_definitions
from ocpp_station.blocks.monitoring.monitors import (
    CUSTOM,
    HARD_WIRED,
    PRECONFIGURED,
    Address,
    Monitor,
    MonitorSet,
    resolve,
    supported_types,
)
from ocpp_station.layout import EvseLayout

DEFS = load_definitions()
HB = DEFS.by_key[("OCPPCommCtrlr", None, "HeartbeatInterval", None)]
HB_ADDRESS = Address("OCPPCommCtrlr", None, 0, 0, "HeartbeatInterval", None)


class Layout:
    def address_ok(self, scope: str, evse: int | None, connector: int | None) -> bool:
        layout = EvseLayout.of({1: [1]})
        if scope == "station":
            return evse is None and connector is None
        if scope == "evse":
            return layout.has(evse or 0) and connector is None
        return connector is not None and layout.has(evse or 0, connector)


def item(kind: str, value: float, severity: int = 5, **extra: Any) -> dict[str, Any]:
    return {
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "HeartbeatInterval"},
        "type": kind,
        "value": value,
        "severity": severity,
        **extra,
    }


def predefined() -> list[Monitor]:
    station = Address("ChargingStation", None, 0, 0, "AvailabilityState", None)
    problem = Address("ChargingStation", None, 0, 0, "Problem", None)
    return [
        Monitor(1, HARD_WIRED, problem, "Delta", 1, 1),
        Monitor(200, PRECONFIGURED, station, "Delta", 1, 6, factory_default=True),
        Monitor(300, PRECONFIGURED, station, "Delta", 1, 8),
    ]


def test_resolve_unknown_component_variable_and_instance() -> None:
    assert resolve(DEFS, Layout(), HB_ADDRESS)[0] == ""
    nope = Address("Nope", None, 0, 0, "X", None)
    assert resolve(DEFS, Layout(), nope) == ("UnknownComponent", None)
    evse9 = Address("EVSE", None, 9, 0, "Power", None)
    assert resolve(DEFS, Layout(), evse9) == ("UnknownComponent", None)
    other = Address("OCPPCommCtrlr", None, 0, 0, "Nope", None)
    assert resolve(DEFS, Layout(), other) == ("UnknownVariable", None)


def test_supported_types_follow_the_data_type_table() -> None:
    assert "UpperThreshold" in supported_types(HB)
    state = DEFS.by_key[("Connector", None, "AvailabilityState", None)]
    assert supported_types(state) == ("Delta", "Periodic", "PeriodicClockAligned")
    timeout = DEFS.by_key[("TxCtrlr", None, "EVConnectionTimeOut", None)]
    assert supported_types(timeout) == ()  # supportsMonitoring false


@pytest.mark.parametrize(
    ("data", "status", "reason"),
    [
        (item("UpperThreshold", 86401), "Rejected", "ValueOutOfRange"),  # N04.FR.06
        (item("LowerThreshold", 0), "Rejected", "ValueOutOfRange"),  # below minLimit 1
        (item("Delta", -0.5), "Rejected", "ValueOutOfRange"),  # N04.FR.14
        (item("Periodic", 0), "Rejected", "ValuePositiveOnly"),
        (item("Delta", 1, severity=10), "Rejected", "ValueOutOfRange"),
        (item("Delta", 1, id=77), "Rejected", "NotFound"),  # N04.FR.13
    ],
)
def test_refusals(data: dict[str, Any], status: str, reason: str) -> None:
    outcome = MonitorSet().check(data, HB)
    assert outcome.status == status and outcome.monitor is None
    assert outcome.info is not None and outcome.info["reasonCode"] == reason


def test_unsupported_type_for_the_variable() -> None:
    state = DEFS.by_key[("Connector", None, "AvailabilityState", None)]
    data = {**item("UpperThreshold", 1), "component": {"name": "Connector"}}
    assert MonitorSet().check(data, state).status == "UnsupportedMonitorType"  # N04.FR.05


def test_accept_generates_ids_above_reserved_ones_and_detects_duplicates() -> None:
    monitors = MonitorSet()
    outcome = monitors.check(item("UpperThreshold", 600, transaction=True), HB, reserved=[300])
    assert outcome.status == "Accepted" and outcome.monitor is not None
    assert (outcome.monitor.id, outcome.monitor.kind) == (301, CUSTOM)  # N04.FR.11
    assert outcome.monitor.transaction is True
    monitors.apply(outcome)
    assert monitors.check(item("UpperThreshold", 700), HB).status == "Duplicate"  # N04.FR.10
    assert monitors.check(item("UpperThreshold", 700, severity=4), HB).status == "Accepted"


def test_replace_keeps_id_refuses_other_variable_and_hard_wired() -> None:
    monitors = MonitorSet(predefined())
    pre = DEFS.by_key[("ChargingStation", None, "AvailabilityState", None)]
    data = {
        "id": 200,
        "component": {"name": "ChargingStation"},
        "variable": {"name": "AvailabilityState"},
        "type": "Delta",
        "value": 1,
        "severity": 2,
    }
    replaced = monitors.check(data, pre)
    assert replaced.monitor is not None and replaced.monitor.kind == CUSTOM  # N04.FR.15
    assert replaced.replaced is not None and replaced.replaced.id == 200
    assert monitors.check({**item("Delta", 1), "id": 200}, HB).status == "Rejected"  # .16
    problem = DEFS.by_key[("ChargingStation", None, "Problem", None)]
    wired = {**data, "id": 1, "variable": {"name": "Problem"}, "severity": 3}
    outcome = monitors.check(wired, problem)
    assert (outcome.status, outcome.info and outcome.info["reasonCode"]) == (
        "Rejected",
        "ReadOnly",
    )  # N04.FR.18


def test_modified_threshold_keeps_its_tripped_state() -> None:
    monitors = MonitorSet()
    first = monitors.check(item("UpperThreshold", 600), HB)
    assert first.monitor is not None
    monitors.apply(first)
    first.monitor.tripped = True
    second = monitors.check(item("UpperThreshold", 900, id=first.monitor.id), HB)
    assert second.monitor is not None and second.monitor.tripped  # N07.FR.11


def test_clear_statuses() -> None:
    monitors = MonitorSet(predefined())
    assert monitors.clear(200) == {"status": "Accepted", "id": 200}
    assert monitors.clear(200)["status"] == "NotFound"  # N06.FR.02
    assert monitors.clear(1)["status"] == "Rejected"  # N06.FR.03: hard-wired
    assert [m.id for m in monitors] == [1, 300]


def test_bases() -> None:
    monitors = MonitorSet()
    monitors.set_base("FactoryDefault", predefined())
    assert [m.id for m in monitors] == [1, 200]
    monitors.apply(monitors.check(item("Delta", 1), HB, reserved=[1, 200, 300]))
    monitors.set_base("All", predefined())  # N03.FR.03: custom monitors stay
    assert [m.id for m in monitors] == [1, 200, 300, 301]
    monitors.set_base("FactoryDefault", predefined())  # N03.FR.04
    assert [m.id for m in monitors] == [1, 200]
    monitors.set_base("HardWiredOnly", predefined())  # N03.FR.05
    assert [m.id for m in monitors] == [1]
    with pytest.raises(ValueError, match="unknown monitoring base"):
        monitors.set_base("Some", predefined())


def test_all_does_not_restore_a_preconfigured_monitor_whose_slot_a_custom_one_took() -> None:
    monitors = MonitorSet([predefined()[0]])
    station = Address("ChargingStation", None, 0, 0, "AvailabilityState", None)
    monitors.by_id[500] = Monitor(500, CUSTOM, station, "Delta", 1, 6)  # same slot as 200
    monitors.set_base("All", predefined())
    assert [m.id for m in monitors] == [1, 300, 500]


def test_describe_is_variable_monitoring_type() -> None:
    m = Monitor(7, CUSTOM, HB_ADDRESS, "UpperThreshold", 12.5, 3, transaction=True)
    assert m.describe() == {
        "id": 7,
        "transaction": True,
        "value": 12.5,
        "type": "UpperThreshold",
        "severity": 3,
    }
    assert Monitor(8, CUSTOM, HB_ADDRESS, "Delta", 2.0, 3).describe()["value"] == 2


def test_a_monitor_copy_is_a_new_object_with_every_field() -> None:
    import dataclasses

    monitor = Monitor(
        7, PRECONFIGURED, HB_ADDRESS, "Delta", 2.5, 4, True, True, True, "300", 1234.5
    )
    copied = monitor.copy()
    assert copied is not monitor
    assert dataclasses.astuple(copied) == dataclasses.astuple(monitor)
    # copy() names the eleven fields: one added to Monitor must be added there too
    assert len(dataclasses.fields(Monitor)) == 11
    copied.tripped = False
    assert monitor.tripped
