"""Meter-value building (J01/J02) and clock-aligned sample times."""

from __future__ import annotations

import importlib.resources
import json

import jsonschema
import pytest

from hal.types import MeterReading
from ocpp_station.blocks.transactions.meter import (
    SUPPORTED_MEASURANDS,
    meter_value,
    next_aligned,
    parse_measurands,
    sampled_values,
)
from ocpp_station.clock import parse_iso

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
R = MeterReading(1, 12345.6, 7200.0, (10.5, 10.25, 10.0), (230.0, 231.5, 229.0))


def _validator(name: str) -> jsonschema.Draft6Validator:
    path = importlib.resources.files("ocpp.v201") / "schemas" / name
    return jsonschema.Draft6Validator(json.loads(path.read_text()))


def test_all_supported_measurands() -> None:
    svs = sampled_values(R, SUPPORTED_MEASURANDS, "Sample.Periodic")
    rows = [(s["measurand"], s.get("phase"), s["value"], s["unitOfMeasure"]["unit"]) for s in svs]
    assert rows == [
        ("Energy.Active.Import.Register", None, 12345.6, "Wh"),
        ("Power.Active.Import", None, 7200, "W"),
        ("Current.Import", "L1", 10.5, "A"),
        ("Current.Import", "L2", 10.25, "A"),
        ("Current.Import", "L3", 10, "A"),
        ("Voltage", "L1-N", 230, "V"),
        ("Voltage", "L2-N", 231.5, "V"),
        ("Voltage", "L3-N", 229, "V"),
    ]
    assert {s["context"] for s in svs} == {"Sample.Periodic"}


def test_single_phase_unknown_and_duplicate_measurands() -> None:
    svs = sampled_values(
        R, ["SoC", "Voltage", "Frequency", "Voltage", "Current.Import"], "Trigger", 1
    )
    assert [(s["measurand"], s["phase"]) for s in svs] == [
        ("Voltage", "L1-N"),
        ("Current.Import", "L1"),
    ]
    assert sampled_values(R, ["SoC", "Power.Offered"], "Trigger") == []


def test_meter_value_is_schema_valid_and_none_when_empty() -> None:
    mv = meter_value(R, ["Energy.Active.Import.Register", "Voltage"], "Sample.Clock", T0 + 0.25)
    assert mv is not None and parse_iso(mv["timestamp"]) == T0 + 0.25
    _validator("MeterValuesRequest.json").validate({"evseId": 1, "meterValue": [mv]})
    assert meter_value(R, ["SoC"], "Sample.Clock", T0) is None


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="reading context"):
        sampled_values(R, ["Voltage"], "Sometimes")
    with pytest.raises(ValueError, match="phases"):
        sampled_values(R, ["Voltage"], "Trigger", 4)
    with pytest.raises(ValueError, match="bad value"):
        sampled_values(MeterReading(1, float("inf"), 0, (0, 0, 0), (0, 0, 0)), [], "Trigger")
    with pytest.raises(ValueError, match="3 currents"):
        sampled_values(MeterReading(1, 0, 0, (0, 0), (0, 0, 0)), [], "Trigger")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="> 0"):
        next_aligned(T0, 0)


def test_next_aligned_to_midnight() -> None:
    assert next_aligned(T0, 900) == T0 + 900  # exactly on a boundary: the next one
    assert next_aligned(T0 + 1, 900) == T0 + 900
    assert next_aligned(T0 + 901, 900) == T0 + 1800
    # 7 h does not divide a day: the points restart at midnight
    assert next_aligned(T0 + 21 * 3600 + 5, 7 * 3600) == T0 + 86_400
    assert next_aligned(T0 + 86_400 + 1, 7 * 3600) == T0 + 86_400 + 7 * 3600
    # local midnight of UTC+1 is 23:00 UTC
    assert next_aligned(T0 + 60, 3600, tz_offset=3600) == T0 + 3600
    assert next_aligned(T0, 7 * 3600, tz_offset=3600) == T0 + 6 * 3600  # 07:00 local


def test_parse_measurands() -> None:
    assert parse_measurands(" Energy.Active.Import.Register, Voltage,,Voltage ") == (
        "Energy.Active.Import.Register",
        "Voltage",
    )
    assert parse_measurands("") == ()
