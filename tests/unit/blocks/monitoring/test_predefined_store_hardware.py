"""The packaged predefined monitors, the monitor rows of the station store, and the charge
controller's readings as device-model values."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from device_model import load_definitions
from hal.types import FaultChanged, MeterReading, PlugChanged
from ocpp_station.blocks.monitoring.hardware import HardwareValues
from ocpp_station.blocks.monitoring.limits import capped
from ocpp_station.blocks.monitoring.monitors import CUSTOM, HARD_WIRED, PRECONFIGURED, Address
from ocpp_station.blocks.monitoring.predefined import predefined
from ocpp_station.blocks.monitoring.store import MonitorStore
from ocpp_station.layout import EvseLayout
from ocpp_station.storage import StationStore

DEFS = load_definitions()


def test_packaged_monitors_expand_per_instance() -> None:
    monitors = predefined(DEFS, EvseLayout.of({1: [1, 2], 2: [1]}))
    by_id = {m.id: m for m in monitors}
    assert sorted(by_id) == [1, 100, 101, 200, 300, 301, 302]
    assert by_id[101].address == Address("EVSE", None, 2, 0, "Problem", None)
    assert by_id[302].address == Address("Connector", None, 2, 1, "AvailabilityState", None)
    assert {by_id[100].kind, by_id[101].kind} == {HARD_WIRED}
    assert by_id[1].kind == PRECONFIGURED and by_id[1].factory_default
    assert not by_id[200].factory_default and not by_id[300].factory_default


def test_each_station_gets_monitors_of_its_own() -> None:
    """The fields are worked out once per definitions and layout; the objects are each
    station's (a monitor's runtime state is its own)."""
    layout = EvseLayout.of({1: [1, 2], 2: [1]})
    first, second = predefined(DEFS, layout), predefined(DEFS, layout)
    assert first == second and all(a is not b for a, b in zip(first, second, strict=True))
    first[0].tripped, first[0].due = True, 5.0
    assert not second[0].tripped and second[0].due is None
    assert not predefined(DEFS, layout)[0].tripped
    assert len(predefined(DEFS, EvseLayout.of({1: [1]}))) < len(first)  # another layout


def entry(monitor_id: int, component: str, variable: str, kind: str) -> dict[str, object]:
    return {
        "id": monitor_id,
        "kind": HARD_WIRED,
        "component": {"name": component},
        "variable": {"name": variable},
        "type": kind,
        "value": 1,
        "severity": 1,
    }


def test_bad_predefined_entries_are_reported_together() -> None:
    entries = [
        entry(1, "Nope", "X", "Delta"),
        entry(2, "EVSE", "Power", "UpperThreshold"),  # ids 2 and 3 on two EVSEs
        entry(3, "ChargingStation", "Problem", "Delta"),
        entry(10, "ChargingStation", "AvailabilityState", "UpperThreshold"),
    ]
    with pytest.raises(ValueError) as info:
        predefined(DEFS, EvseLayout.of({1: [1], 2: [1]}), entries)
    text = str(info.value)
    assert "monitor 1 on Nope.X: no such variable" in text
    assert "monitor 10 on ChargingStation.AvailabilityState: UpperThreshold not supported" in text
    assert "ids used twice: [3]" in text


def test_store_round_trip_skips_hard_wired(tmp_path: Path) -> None:
    store = StationStore.open(tmp_path)
    try:
        rows = MonitorStore(store.connection)
        monitors = predefined(DEFS, EvseLayout.of({1: [1]}))
        rows.replace_all(monitors)
        assert sorted(m.id for m in rows.load()) == [1, 200, 300]
        [pre] = [m for m in monitors if m.id == 200]
        pre.kind, pre.tripped = CUSTOM, True
        rows.save([pre])
        loaded = {m.id: m for m in rows.load()}
        assert (loaded[200].kind, loaded[200].tripped) == (CUSTOM, True)
        assert loaded[200].address == pre.address
        rows.delete([200])
        assert [m.id for m in rows.load()] == [1, 300]
    finally:
        store.close()


def test_hardware_readings() -> None:
    hw = HardwareValues()
    (power,) = hw.writes(MeterReading(1, 10.0, 7360.04, (32, 32, 32), (230, 230, 230)))
    assert (power.component, power.variable, power.value, power.evse) == (
        "EVSE",
        "Power",
        "7360.0",
        1,
    )
    (fault,) = hw.writes(FaultChanged(1, "GroundFailure", True))
    assert (fault.variable, fault.value, fault.tech and fault.tech.code) == (
        "Problem",
        "true",
        "GroundFailure",
    )
    hw.writes(FaultChanged(1, "OverVoltage", True))
    (still,) = hw.writes(FaultChanged(1, "GroundFailure", False))
    assert still.value == "true"  # another fault is still active
    (lost,) = hw.writes(FaultChanged(0, "CommunicationLost", True))
    assert (lost.component, lost.evse, lost.value) == ("ChargingStation", None, "true")
    assert hw.writes(PlugChanged(1, 1, True)) == []


def test_capped_to_the_declared_range() -> None:
    power = DEFS.by_key[("EVSE", None, "Power", None)]
    assert capped(power, "22080.0") == "22000.0"
    assert capped(power, "-3") == "0.0"
    assert capped(power, "n/a") is None


def test_deferred_defaults_go_with_the_first_write_and_survive_a_failed_one(
    tmp_path: Path,
) -> None:
    store = StationStore.open(tmp_path)
    try:
        rows = MonitorStore(store.connection)
        records: list[str] = []

        def record() -> None:
            store.state.save("monitoring", {"initialised": True})
            records.append("saved")

        rows.defer_defaults(predefined(DEFS, EvseLayout.of({1: [1]})), also=record)
        assert rows.load() == [] and records == []  # the start writes nothing

        def fails() -> None:
            raise sqlite3.OperationalError("disk I/O error")

        with pytest.raises(sqlite3.OperationalError):
            rows.replace_all([], also=fails)
        assert rows.load() == [] and store.state.load("monitoring") is None  # rolled back
        rows.delete([200])  # the first write that goes: the defaults, then the change
        assert [m.id for m in rows.load()] == [1, 300]
        assert store.state.load("monitoring") == {"initialised": True}
        rows.record(lambda: records.append("direct"))  # nothing deferred any more
        assert records[-1] == "direct"
    finally:
        store.close()
