"""The firing rules of each monitor type (N07.FR.02/16-19, N08.FR.05-07, Part 1 4.4)."""

from __future__ import annotations

from ocpp_station.blocks.monitoring.monitors import CUSTOM, Address, Monitor
from ocpp_station.blocks.monitoring.rules import aligned_after, on_value, periodic_due, schedule

ADDRESS = Address("OCPPCommCtrlr", None, 0, 0, "HeartbeatInterval", None)


def monitor(kind: str, value: float, reference: str | None = None) -> Monitor:
    return Monitor(1, CUSTOM, ADDRESS, kind, value, 5, reference=reference)


def test_upper_threshold_fires_above_not_on_and_clears_once() -> None:
    m = monitor("UpperThreshold", 10)
    assert on_value(m, "10", "integer") is None  # on the value: not exceeded (N07.FR.16)
    fired = on_value(m, "10.5", "decimal")
    assert fired is not None
    assert (fired.trigger, fired.cleared, fired.actual_value) == ("Alerting", False, "10.5")
    assert on_value(m, "20", "decimal") is None  # still exceeded: nothing new
    back = on_value(m, "10", "decimal")
    assert back is not None and (back.trigger, back.cleared) == ("Alerting", True)  # N07.FR.02
    assert on_value(m, "9", "decimal") is None


def test_lower_threshold_fires_below() -> None:
    m = monitor("LowerThreshold", 10)
    assert on_value(m, "10", "integer") is None  # N07.FR.17: below, not on it
    fired = on_value(m, "9", "integer")
    assert fired is not None and fired.cleared is False
    assert m.tripped


def test_threshold_ignores_values_that_are_not_numbers() -> None:
    m = monitor("UpperThreshold", 10)
    assert on_value(m, "lots", "integer") is None
    assert on_value(m, None, "integer") is None
    assert not m.tripped


def test_numeric_delta_needs_more_than_the_value_from_the_last_event() -> None:
    m = monitor("Delta", 5, reference="100")
    assert on_value(m, "105", "integer") is None  # exactly 5: not more (N07.FR.18)
    fired = on_value(m, "94", "integer")
    assert fired is not None and (fired.trigger, fired.actual_value) == ("Delta", "94")
    assert m.reference == "94"  # the new momentary value
    assert on_value(m, "99", "integer") is None
    assert on_value(m, "100", "integer") is not None


def test_zero_delta_fires_on_every_numeric_change() -> None:
    m = monitor("Delta", 0, reference="1")
    assert on_value(m, "1", "integer") is None
    assert on_value(m, "2", "integer") is not None


def test_non_numeric_delta_fires_on_every_change_whatever_the_value() -> None:
    m = monitor("Delta", 1000, reference="Available")  # N07.FR.19: the value is ignored
    assert on_value(m, "Available", "OptionList") is None
    fired = on_value(m, "Occupied", "OptionList")
    assert fired is not None and fired.cleared is None
    assert on_value(m, "Occupied", "OptionList") is None


def test_datetime_delta_counts_seconds() -> None:
    m = monitor("Delta", 60, reference="2026-01-01T00:00:00Z")
    assert on_value(m, "2026-01-01T00:01:00Z", "dateTime") is None
    assert on_value(m, "2026-01-01T00:01:01Z", "dateTime") is not None


def test_first_value_of_a_delta_without_reference_only_sets_it() -> None:
    m = monitor("Delta", 1)
    assert on_value(m, "7", "integer") is None
    assert m.reference == "7"


def test_periodic_every_interval_from_when_set_or_last_fired() -> None:
    m = monitor("Periodic", 30)
    schedule(m, 1000.0)
    assert periodic_due(m, 1029.9, "300") is None
    fired = periodic_due(m, 1031.0, "300")
    assert fired is not None and (fired.trigger, fired.actual_value) == ("Periodic", "300")
    assert m.due == 1061.0  # N08.FR.06: from the time it fired
    assert on_value(m, "1", "integer") is None  # periodic monitors never fire on a value


def test_clock_aligned_at_multiples_after_midnight() -> None:
    midnight = 1_767_225_600.0  # 2026-01-01T00:00:00Z
    assert aligned_after(midnight + 10, 900) == midnight + 900
    assert aligned_after(midnight + 900, 900) == midnight + 1800
    # an interval that does not divide the day starts again at midnight
    assert aligned_after(midnight + 86000, 7000) == midnight + 86400
    m = monitor("PeriodicClockAligned", 900)
    schedule(m, midnight + 10)
    fired = periodic_due(m, midnight + 900, None)
    assert fired is not None and fired.actual_value == ""
    assert m.due == midnight + 1800
