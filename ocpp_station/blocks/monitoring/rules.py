"""When a monitor fires (N07, N08; Part 1 4.4).  Pure: each function updates the monitor's
runtime state and says whether an event is due.

- UpperThreshold: fires (trigger ``Alerting``) when the Actual value goes above the value, not on
  it (N07.FR.16), and again with ``cleared`` true when it returns to or below it (N07.FR.02).
  LowerThreshold the same way below the value (N07.FR.17).
- Delta: a numeric variable fires when it moved more than ``value`` (absolute difference, errata
  2025-01) from the reference — the value when the monitor was set, the station started, or it
  last fired (N07.FR.18); a dateTime variable the same in seconds; any other type on every change
  (N07.FR.19).  Trigger ``Delta``.
- Periodic: every ``value`` seconds from when the monitor was set or last fired (N08.FR.06);
  PeriodicClockAligned: at the multiples of ``value`` seconds after midnight UTC (N08.FR.07).
  Trigger ``Periodic`` (N08.FR.05).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ocpp_station.blocks.monitoring.monitors import NUMERIC, PERIODIC, THRESHOLDS, Monitor
from ocpp_station.clock import parse_iso

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Firing:
    """One monitor fired: the EventData trigger, ``cleared`` (thresholds only) and the value."""

    monitor: Monitor
    trigger: str
    actual_value: str
    cleared: bool | None = None


def _number(text: str | None, data_type: str) -> float | None:
    if text is None:
        return None
    try:
        number = parse_iso(text) if data_type == "dateTime" else float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def on_value(monitor: Monitor, value: str | None, data_type: str) -> Firing | None:
    """The variable's Actual value is ``value`` now (it changed, or is checked again): the event
    due, if any.  Periodic monitors never fire on a value."""
    if value is None or monitor.type in PERIODIC:
        return None
    if monitor.type in THRESHOLDS:
        number = _number(value, data_type)
        if number is None:
            return None
        if monitor.type == "UpperThreshold":
            exceeded = number > monitor.value
        else:
            exceeded = number < monitor.value
        if exceeded == monitor.tripped:
            return None
        monitor.tripped = exceeded
        return Firing(monitor, "Alerting", value, cleared=not exceeded)
    # Delta
    reference = monitor.reference
    if reference is None:
        monitor.reference = value
        return None
    if data_type in (*NUMERIC, "dateTime"):
        old, new = _number(reference, data_type), _number(value, data_type)
        if old is not None and new is not None:
            if abs(new - old) <= monitor.value:
                return None
        elif value == reference:
            return None
    elif value == reference:
        return None
    monitor.reference = value  # Part 1 4.4: a new momentary value after it fired
    return Firing(monitor, "Delta", value)


def aligned_after(now: float, interval: float) -> float:
    """The first clock-aligned moment after ``now``: midnight UTC plus a multiple of
    ``interval`` (a new day starts the count again)."""
    midnight = math.floor(now / DAY) * DAY
    steps = math.floor((now - midnight) / interval) + 1
    return min(midnight + steps * interval, midnight + DAY)


def schedule(monitor: Monitor, now: float) -> None:
    """Set the first periodic event of a monitor just put in force (or after a restart)."""
    if monitor.type == "Periodic":
        monitor.due = now + monitor.value
    elif monitor.type == "PeriodicClockAligned":
        monitor.due = aligned_after(now, monitor.value)


def periodic_due(monitor: Monitor, now: float, value: str | None) -> Firing | None:
    """The periodic event of ``monitor`` if it is due at ``now`` (and the next one scheduled)."""
    if monitor.type not in PERIODIC or monitor.due is None or now < monitor.due:
        return None
    if monitor.type == "Periodic":
        monitor.due = now + monitor.value  # from the time it last fired (N08.FR.06)
    else:
        monitor.due = aligned_after(now, monitor.value)
    return Firing(monitor, "Periodic", value or "")
