"""GetMonitoringReport selection and parts (N02)."""

from __future__ import annotations

from ocpp_station.blocks.monitoring import report
from ocpp_station.blocks.monitoring.monitors import CUSTOM, Address, Monitor

C11 = Address("Connector", None, 1, 1, "AvailabilityState", None)
C12 = Address("Connector", None, 1, 2, "AvailabilityState", None)
C21 = Address("Connector", None, 2, 1, "AvailabilityState", None)
HB = Address("OCPPCommCtrlr", None, 0, 0, "HeartbeatInterval", None)
MONITORS = [
    Monitor(1, CUSTOM, C11, "Delta", 1, 5),
    Monitor(2, CUSTOM, C12, "Periodic", 60, 5),
    Monitor(3, CUSTOM, C21, "Delta", 1, 5),
    Monitor(4, CUSTOM, HB, "UpperThreshold", 600, 5),
    Monitor(5, CUSTOM, HB, "LowerThreshold", 10, 5),
]


def ids(chosen: list[Monitor]) -> list[int]:
    return [m.id for m in chosen]


def test_criteria() -> None:
    assert ids(report.select(MONITORS)) == [1, 2, 3, 4, 5]  # N02.FR.11
    assert ids(report.select(MONITORS, ["ThresholdMonitoring"])) == [4, 5]  # N02.FR.12
    assert ids(report.select(MONITORS, ["DeltaMonitoring"])) == [1, 3]  # N02.FR.13
    assert ids(report.select(MONITORS, ["PeriodicMonitoring"])) == [2]  # N02.FR.14
    both = ["DeltaMonitoring", "PeriodicMonitoring"]
    assert ids(report.select(MONITORS, both)) == [1, 2, 3]


def test_component_variables() -> None:
    connector = {"component": {"name": "Connector"}}
    assert ids(report.select(MONITORS, [], [connector])) == [1, 2, 3]  # N02.FR.16/19
    evse1 = {"component": {"name": "Connector", "evse": {"id": 1}}}
    assert ids(report.select(MONITORS, [], [evse1])) == [1, 2]  # N02.FR.18
    exact = {"component": {"name": "Connector", "evse": {"id": 1, "connectorId": 2}}}
    assert ids(report.select(MONITORS, [], [exact])) == [2]
    other = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "Other"}}
    assert report.select(MONITORS, [], [other]) == []
    both = report.select(MONITORS, ["ThresholdMonitoring"], [connector])  # N02.FR.05
    assert both == []


def test_grouped_per_variable_and_split_in_parts() -> None:
    data = report.monitoring_data(MONITORS)
    assert len(data) == 4
    assert data[3] == {
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "HeartbeatInterval"},
        "variableMonitoring": [m.describe() for m in MONITORS[3:]],
    }
    parts = report.parts(9, data, 3, "now")
    assert [(p["seqNo"], p["tbc"], len(p["monitor"])) for p in parts] == [
        (0, True, 3),
        (1, False, 1),
    ]
    assert all(p["requestId"] == 9 and p["generatedAt"] == "now" for p in parts)
    assert report.parts(1, [], 3, "now") == [
        {"requestId": 1, "seqNo": 0, "generatedAt": "now", "tbc": False}
    ]
