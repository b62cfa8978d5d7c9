"""Meter values: OCPP ``SampledValueType`` / ``MeterValueType`` dicts from a HAL meter reading.

Pure functions, no I/O.  Supported measurands (everything the HAL :class:`MeterReading` carries):

* ``Energy.Active.Import.Register`` - one total value, unit ``Wh``
* ``Power.Active.Import`` - one total value (sum of phases), unit ``W``
* ``Current.Import`` - one value per phase (``L1``, ``L2``, ``L3``), unit ``A``
* ``Voltage`` - one value per phase (``L1-N``, ``L2-N``, ``L3-N``), unit ``V``

Any other measurand in a configured list (``SampledDataCtrlr.TxStartedMeasurands`` and friends,
``AlignedDataCtrlr.Measurands``) is skipped: the HAL has no source for it.

Clock-aligned sampling (J01, ``AlignedDataCtrlr.Interval``): the sample points are evenly spaced
``interval`` seconds apart starting at midnight, see :func:`next_aligned`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from hal.types import MeterReading
from ocpp_station.clock import iso

ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
CURRENT = "Current.Import"
VOLTAGE = "Voltage"

SUPPORTED_MEASURANDS: tuple[str, ...] = (ENERGY, POWER, CURRENT, VOLTAGE)

# ReadingContextEnumType (OCPP 2.0.1 part 2, 3.66)
READING_CONTEXTS = frozenset(
    {
        "Interruption.Begin",
        "Interruption.End",
        "Other",
        "Sample.Clock",
        "Sample.Periodic",
        "Transaction.Begin",
        "Transaction.End",
        "Trigger",
    }
)

_CURRENT_PHASES = ("L1", "L2", "L3")
_VOLTAGE_PHASES = ("L1-N", "L2-N", "L3-N")
_DAY = 86_400.0


def parse_measurands(text: str) -> tuple[str, ...]:
    """Split a device-model MemberList value (``"Energy.Active.Import.Register,Voltage"``) into
    measurand names, dropping blanks and surrounding spaces; order kept, duplicates removed."""
    seen: dict[str, None] = {}
    for part in text.split(","):
        name = part.strip()
        if name:
            seen.setdefault(name, None)
    return tuple(seen)


def _number(value: float) -> float | int:
    """A JSON-friendly value: integral floats become ints, others keep 3 decimals."""
    rounded = round(float(value), 3)
    return int(rounded) if rounded.is_integer() else rounded


def _sample(
    value: float, context: str, measurand: str, unit: str, phase: str | None
) -> dict[str, Any]:
    sv: dict[str, Any] = {
        "value": _number(value),
        "context": context,
        "measurand": measurand,
        "unitOfMeasure": {"unit": unit},
    }
    if phase is not None:
        sv["phase"] = phase
    return sv


def check_reading(reading: MeterReading) -> None:
    """Raise :class:`ValueError` unless every value of ``reading`` is a finite number and it has
    three currents and three voltages."""
    currents, voltages = reading.current_a, reading.voltage_v
    if not isinstance(currents, (tuple, list)) or not isinstance(voltages, (tuple, list)):
        raise ValueError(f"meter reading of EVSE {reading.evse}: currents/voltages must be tuples")
    if len(currents) != 3 or len(voltages) != 3:
        raise ValueError(
            f"meter reading of EVSE {reading.evse} needs 3 currents and 3 voltages, got "
            f"{len(currents)} and {len(voltages)}"
        )
    values: Iterable[Any] = (reading.energy_wh, reading.power_w, *currents, *voltages)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f"meter reading of EVSE {reading.evse} holds a bad value: {v!r}")


def sampled_values(
    reading: MeterReading, measurands: Sequence[str], context: str, phases: int = 3
) -> list[dict[str, Any]]:
    """``SampledValueType`` dicts for the supported ``measurands`` of ``reading``.

    ``phases`` (1..3) limits the per-phase measurands to L1..L<phases>.  Unknown measurands are
    skipped; a measurand listed twice is reported once.  Raises :class:`ValueError` for an unknown
    ``context``, a bad ``phases`` or a reading with non-finite values.
    """
    if context not in READING_CONTEXTS:
        raise ValueError(f"unknown reading context {context!r}")
    if isinstance(phases, bool) or not isinstance(phases, int) or not 1 <= phases <= 3:
        raise ValueError(f"phases must be 1, 2 or 3, not {phases!r}")
    check_reading(reading)
    out: list[dict[str, Any]] = []
    done: set[str] = set()
    for measurand in measurands:
        if measurand in done:
            continue
        done.add(measurand)
        if measurand == ENERGY:
            out.append(_sample(reading.energy_wh, context, ENERGY, "Wh", None))
        elif measurand == POWER:
            out.append(_sample(reading.power_w, context, POWER, "W", None))
        elif measurand == CURRENT:
            for i in range(phases):
                out.append(_sample(reading.current_a[i], context, CURRENT, "A", _CURRENT_PHASES[i]))
        elif measurand == VOLTAGE:
            for i in range(phases):
                out.append(_sample(reading.voltage_v[i], context, VOLTAGE, "V", _VOLTAGE_PHASES[i]))
    return out


def meter_value(
    reading: MeterReading,
    measurands: Sequence[str],
    context: str,
    now: float,
    phases: int = 3,
) -> dict[str, Any] | None:
    """A ``MeterValueType`` dict (``timestamp`` + ``sampledValue``), or ``None`` when none of the
    ``measurands`` is supported (a MeterValue needs at least one sampled value)."""
    values = sampled_values(reading, measurands, context, phases)
    if not values:
        return None
    return {"timestamp": iso(now), "sampledValue": values}


def next_aligned(now: float, interval: float, tz_offset: float = 0.0) -> float:
    """The first clock-aligned sample time strictly after ``now`` (epoch seconds).

    Sample points are midnight + k * ``interval`` (J01, ``AlignedDataCtrlr.Interval``); midnight
    is UTC shifted by ``tz_offset`` seconds (e.g. 3600 for UTC+1).  An interval that does not
    divide a day restarts at every midnight.  Raises :class:`ValueError` for an interval <= 0.
    """
    if not math.isfinite(interval) or interval <= 0:
        raise ValueError(f"aligned interval must be > 0 seconds, not {interval!r}")
    if not math.isfinite(now):
        raise ValueError(f"now must be a finite time, not {now!r}")
    local = now + tz_offset
    day_start = math.floor(local / _DAY) * _DAY
    k = math.floor((local - day_start) / interval) + 1
    t = day_start + k * interval
    if t > day_start + _DAY:
        t = day_start + _DAY
    return t - tz_offset
