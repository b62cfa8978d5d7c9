"""The charge controller's readings as device-model Actual values, so monitors see them.

- ``MeterReading.power_w`` → ``EVSE.Power`` (W, one decimal; capped to the variable's range).
- ``FaultChanged`` → ``EVSE.Problem`` (``ChargingStation.Problem`` for a controller-wide fault,
  evse 0): true while any fault is active there; the fault code goes with the value as the
  ``techCode`` of the events it fires.

Connector status is already an Actual value (``AvailabilityState``, written by the availability
block).  Pure: :meth:`HardwareValues.writes` says what to write.
"""

from __future__ import annotations

from dataclasses import dataclass

from hal.types import FaultChanged, HalEvent, MeterReading
from ocpp_station.blocks.monitoring.events import Tech


@dataclass(frozen=True, slots=True)
class Write:
    component: str
    variable: str
    value: str
    evse: int | None = None
    tech: Tech | None = None


class HardwareValues:
    """Which faults are active where (the controller reports each raise and clear)."""

    def __init__(self) -> None:
        self._faults: dict[int, list[str]] = {}

    def writes(self, event: HalEvent) -> list[Write]:
        if isinstance(event, MeterReading):
            return [Write("EVSE", "Power", f"{round(event.power_w, 1)}", evse=event.evse)]
        if isinstance(event, FaultChanged):
            active = self._faults.setdefault(event.evse, [])
            if event.active and event.code not in active:
                active.append(event.code)
            elif not event.active and event.code in active:
                active.remove(event.code)
            state = "raised" if event.active else "cleared"
            tech = Tech(event.code, f"fault {event.code} {state}")
            if event.evse == 0:
                return [Write("ChargingStation", "Problem", _bool(active), tech=tech)]
            return [Write("EVSE", "Problem", _bool(active), evse=event.evse, tech=tech)]
        return []


def _bool(active: list[str]) -> str:
    return "true" if active else "false"
