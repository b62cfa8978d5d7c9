"""The parts of :class:`hal.sim_model.SimulatedController`: argument checks, the state of one
simulated EVSE, and the electrical rules of the supply.

Pure.  What the EV draws: ``min(ev_max_current_a, limit, max_current_a)`` per phase on
``min(limit phases, station phases)`` phases, and only while the contactor is closed; power is the
sum over the phases.  Voltage is measured on the supply side: ``voltage_v`` on each station phase.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from hal.types import MeterReading, PilotState


class SimError(ValueError):
    """An invalid argument to the simulated controller (unknown EVSE or connector, bad state
    letter, bad number...); the message names the problem."""


def check_number(value: object, name: str, *, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SimError(f"{name} must be a number, got {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise SimError(f"{name} must be finite, got {value!r}")
    if minimum is not None and result < minimum:
        raise SimError(f"{name} must be >= {minimum:g}, got {value!r}")
    return result


def check_integer(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SimError(f"{name} must be an integer, got {value!r}")
    return value


def check_phases(value: object, name: str) -> int:
    phases = check_integer(value, name)
    if not 1 <= phases <= 3:
        raise SimError(f"{name} must be 1, 2 or 3, got {phases}")
    return phases


@dataclass(slots=True)
class EvseState:
    """One EVSE of the simulated controller: what the station commanded, what the EV and the
    test rig did, and what the station was last told."""

    id: int
    connectors: tuple[int, ...]
    limit_a: float
    limit_phases: int
    plugged: int | None = None  # the connector with a cable in
    ev_attached: bool = True  # the cable's other end is in an EV (False: unplugged at the EV)
    ev_request: PilotState = PilotState.C  # B (suspended by the EV), C or D
    ev_error: PilotState | None = None  # E or F forced by the test rig
    enabled: bool = True
    power_allowed: bool = False
    faults: dict[str, None] = field(default_factory=dict)  # ordered set of active codes
    locks: dict[int, bool] = field(default_factory=dict)
    energy_ws: float = 0.0  # watt-seconds: exact sums of power * dt
    # What the station was last told (always equal to the actual state between calls).
    pilot: PilotState = PilotState.A
    contactor: bool = False
    reported: MeterReading | None = None
    reported_at: float = 0.0


def _on(value: float, phases: int, phase: int) -> float:
    """``value`` on phase ``phase`` (1-3) when it is one of the first ``phases``, else 0."""
    return value if phase <= phases else 0.0


@dataclass(frozen=True, slots=True)
class Supply:
    """The station's supply and the EVs' capability, shared by every EVSE."""

    voltage_v: float
    phases: int
    max_current_a: float
    ev_max_current_a: float

    def draw(self, ev: EvseState) -> tuple[float, int]:
        """Current per phase and number of phases the EV draws on now."""
        if not ev.contactor:
            return 0.0, 0
        amps = min(self.ev_max_current_a, ev.limit_a, self.max_current_a)
        return amps, min(ev.limit_phases, self.phases)

    def power(self, ev: EvseState) -> float:
        amps, phases = self.draw(ev)
        return amps * self.voltage_v * phases

    def reading(self, ev: EvseState) -> MeterReading:
        amps, phases = self.draw(ev)
        volts, wired = self.voltage_v, self.phases
        return MeterReading(
            evse=ev.id,
            energy_wh=ev.energy_ws / 3600.0,
            power_w=amps * volts * phases,
            current_a=(_on(amps, phases, 1), _on(amps, phases, 2), _on(amps, phases, 3)),
            voltage_v=(_on(volts, wired, 1), _on(volts, wired, 2), _on(volts, wired, 3)),
        )
