"""A simulated AC charge controller and the EVs plugged into it (IEC 61851-1), as a pure model.

No asyncio and no I/O: the owner moves time with :meth:`SimulatedController.advance` and collects
the events with :meth:`SimulatedController.take_events`.  The same calls at the same ``now`` values
always give the same events.  The ``sim`` HAL backend drives it in-process; the controller-sim
process puts it on the far side of a serial line or CAN bus.

The rules, per EVSE:

- Control pilot: ``A`` while no cable is in.  With a cable in, the pilot shows what the EV does: it
  asks for energy (``C``, or ``D`` with ventilation) only while energy is *offered* (EVSE enabled,
  power allowed, no fault on the EVSE or controller-wide); otherwise, or when the EV suspends
  itself (``ev_state(evse, "B")``), the pilot is ``B``.  ``E``/``F`` set by the test rig override
  everything until the EV is set back to ``B``/``C``/``D`` or unplugged.  A freshly plugged EV
  wants energy (``C``).  A cable unplugged at the EV only (``unplug_ev``) stays in its connector
  with the pilot ``A`` until the EV is back (``ev_state`` ``B``/``C``/``D``) or it is unplugged.
- Contactor: closed exactly while the pilot is ``C`` or ``D``.  A current limit of 0 A keeps the
  EV in ``C`` and the contactor closed, drawing 0 A (the EV waits for a limit above zero).
- Current per phase: ``min(ev_max_current_a, limit, max_current_a)`` on
  ``min(limit phases, station phases)`` phases; power is the sum over the phases.
- Event order within one call: a contactor that opens is reported before the pilot change, a
  contactor that closes after it, so the station never sees a closed contactor with a pilot other
  than ``C``/``D``.  An EV that connects and at once asks for energy reports ``B`` then ``C``.
  ``PlugChanged(plugged)`` comes first on plug-in, ``PlugChanged(unplugged)`` after the pilot
  ``A`` on unplug.  A :class:`MeterReading` closes every call that changed something.
- Meter: energy (``energy_wh``) is integrated exactly (``power * dt``), is monotonic and survives
  unplugging.  A reading is emitted at once when the pilot, contactor, plug or the instantaneous
  values (power, currents, voltages) change, and otherwise every ``meter_interval`` seconds while
  power flows.  Voltage is measured on the supply side: ``voltage_v`` on each station phase.
- Locks are reported after every ``lock`` command (the actuator reports its position); unplugging
  does not move a lock.  Faults are a set of active codes per EVSE (``evse == 0``: controller-wide,
  stops every EVSE); raising an active code again or clearing with none active changes nothing.
- ``reset()`` returns the station's commands to their power-on values (power not allowed, limits
  back to ``max_current_a`` on all station phases); plugs, EVs, locks, faults, the enabled flags
  and the energy registers are physical or operator state and stay as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hal.sim_evse import (
    EvseState,
    SimError,
    Supply,
    check_integer,
    check_number,
    check_phases,
)
from hal.types import (
    ContactorChanged,
    FaultChanged,
    HalEvent,
    IdTokenPresented,
    LockChanged,
    PilotState,
    PilotStateChanged,
    PlugChanged,
)

__all__ = ["ID_TOKEN_MAX_LENGTH", "ID_TOKEN_TYPES", "SimError", "SimulatedController"]

# OCPP 2.0.1 IdTokenEnumType and IdTokenType.idToken maxLength.
ID_TOKEN_TYPES = (
    "Central",
    "eMAID",
    "ISO14443",
    "ISO15693",
    "KeyCode",
    "Local",
    "MacAddress",
    "NoAuthorization",
)
ID_TOKEN_MAX_LENGTH = 36

_A, _B, _C, _D = PilotState.A, PilotState.B, PilotState.C, PilotState.D
_DRAWING = (PilotState.C, PilotState.D)
_NO_CURRENT = (0.0, 0.0, 0.0)


class SimulatedController:
    """One simulated charge controller with its EVSEs, connectors and EVs; see the module doc."""

    def __init__(
        self,
        evses: Mapping[int, Sequence[int]],
        *,
        now: float,
        voltage_v: float = 230.0,
        phases: int = 3,
        max_current_a: float = 32.0,
        ev_max_current_a: float = 32.0,
        meter_interval: float = 1.0,
    ) -> None:
        self._now = check_number(now, "now")
        self._supply = Supply(
            voltage_v=check_number(voltage_v, "voltage_v", minimum=0.0),
            phases=check_phases(phases, "phases"),
            max_current_a=check_number(max_current_a, "max_current_a", minimum=0.0),
            ev_max_current_a=check_number(ev_max_current_a, "ev_max_current_a", minimum=0.0),
        )
        self._meter_interval = check_number(meter_interval, "meter_interval", minimum=0.0)
        if not isinstance(evses, Mapping) or not evses:
            raise SimError(f"evses must be a non-empty mapping of evse id to connectors: {evses!r}")
        self._evses: dict[int, EvseState] = {}
        for evse_id in sorted(evses, key=lambda key: check_integer(key, "evse id")):
            number = check_integer(evse_id, "evse id")
            if number < 1:
                raise SimError(f"evse id must be >= 1, got {number}")
            connectors = evses[evse_id]
            if isinstance(connectors, str | bytes) or not isinstance(connectors, Sequence):
                raise SimError(f"connectors of evse {number} must be a list, got {connectors!r}")
            ids = tuple(check_integer(c, f"connector id of evse {number}") for c in connectors)
            if not ids or min(ids) < 1 or len(set(ids)) != len(ids):
                raise SimError(
                    f"evse {number} needs distinct connector ids >= 1, got {list(connectors)!r}"
                )
            ev = EvseState(
                number, tuple(sorted(ids)), self._supply.max_current_a, self._supply.phases
            )
            ev.locks = dict.fromkeys(ev.connectors, False)
            ev.reported = self._supply.reading(ev)
            ev.reported_at = self._now
            self._evses[number] = ev
        self._faults: dict[str, None] = {}  # controller-wide (evse 0)
        self._events: list[HalEvent] = []

    # -- commands from the station -----------------------------------------------------------

    def enable(self, evse: int, enabled: bool) -> None:
        ev = self._evse(evse)
        ev.enabled = bool(enabled)
        self._update(ev)

    def allow_power(self, evse: int, allowed: bool) -> None:
        ev = self._evse(evse)
        ev.power_allowed = bool(allowed)
        self._update(ev)

    def set_current_limit(self, evse: int, amps: float, phases: int = 3) -> None:
        ev = self._evse(evse)
        ev.limit_a = check_number(amps, "current limit (A)", minimum=0.0)
        ev.limit_phases = check_phases(phases, "limit phases")
        self._update(ev)

    def lock(self, evse: int, connector: int, locked: bool) -> None:
        ev = self._evse(evse)
        self._connector(ev, connector)
        ev.locks[connector] = bool(locked)
        self._events.append(LockChanged(ev.id, connector, bool(locked)))

    def reset(self) -> None:
        for ev in self._evses.values():
            ev.power_allowed = False
            ev.limit_a = self._supply.max_current_a
            ev.limit_phases = self._supply.phases
            self._update(ev)

    # -- actions of the test rig --------------------------------------------------------------

    def plug_in(self, evse: int, connector: int = 1) -> None:
        ev = self._evse(evse)
        self._connector(ev, connector)
        if ev.plugged == connector:
            return  # the cable is already in
        if ev.plugged is not None:
            raise SimError(
                f"evse {ev.id} already has a cable in connector {ev.plugged}; unplug it first"
            )
        ev.plugged, ev.ev_attached = connector, True
        ev.ev_request, ev.ev_error = _C, None  # a new EV wants energy
        self._update(ev, before=[PlugChanged(ev.id, connector, True)])

    def unplug(self, evse: int) -> None:
        ev = self._evse(evse)
        if ev.plugged is None:
            return
        connector, ev.plugged = ev.plugged, None
        ev.ev_request, ev.ev_error, ev.ev_attached = _C, None, True
        self._update(ev, after=[PlugChanged(ev.id, connector, False)])

    def unplug_ev(self, evse: int) -> None:
        """The cable is pulled out of the EV but stays in the station's connector (pilot A, no
        PlugChanged); ``ev_state`` B/C/D puts it back into the EV."""
        ev = self._evse(evse)
        if ev.plugged is None:
            raise SimError(f"no cable in evse {ev.id}: plug_in first")
        ev.ev_attached, ev.ev_error = False, None
        self._update(ev)

    def present_id_token(self, evse: int, id_token: str, type: str = "ISO14443") -> None:
        if check_integer(evse, "evse") != 0:
            self._evse(evse)
        if not isinstance(id_token, str) or not 0 < len(id_token) <= ID_TOKEN_MAX_LENGTH:
            raise SimError(
                f"id_token must be a string of 1 to {ID_TOKEN_MAX_LENGTH} characters, "
                f"got {id_token!r}"
            )
        if type not in ID_TOKEN_TYPES:
            raise SimError(f"unknown id token type {type!r}; one of {', '.join(ID_TOKEN_TYPES)}")
        self._events.append(IdTokenPresented(evse, id_token, type))

    def ev_state(self, evse: int, state: str) -> None:
        ev = self._evse(evse)
        if not isinstance(state, str) or state not in PilotState.__members__:
            raise SimError(f"EV state must be one of A, B, C, D, E, F (IEC 61851), got {state!r}")
        letter = PilotState(state)
        if letter is _A:
            self.unplug(evse)
            return
        if ev.plugged is None:
            raise SimError(f"no EV on evse {ev.id}: plug_in first to set state {letter}")
        if letter in (PilotState.E, PilotState.F):
            ev.ev_error = letter
        else:
            ev.ev_request, ev.ev_error, ev.ev_attached = letter, None, True
        self._update(ev)

    def fault(self, evse: int, code: str) -> None:
        if not isinstance(code, str) or not code:
            raise SimError(f"fault code must be a non-empty string, got {code!r}")
        faults = self._fault_set(evse)
        if code in faults:
            return
        faults[code] = None
        self._events.append(FaultChanged(evse, code, True))
        self._update_all(evse)

    def clear_fault(self, evse: int) -> None:
        faults = self._fault_set(evse)
        if not faults:
            return
        self._events.extend(FaultChanged(evse, code, False) for code in faults)
        faults.clear()
        self._update_all(evse)

    # -- time and output ----------------------------------------------------------------------

    @property
    def now(self) -> float:
        """The model's current time (the last ``advance``)."""
        return self._now

    def advance(self, now: float) -> None:
        """Move the model to ``now``: integrate the meters and emit the due readings.  A clock
        that steps back moves no energy and restarts the reading intervals from ``now``."""
        now = check_number(now, "now")
        dt = now - self._now
        self._now = now
        for ev in self._evses.values():
            if dt > 0:
                ev.energy_ws += self._supply.power(ev) * dt
            ev.reported_at = min(ev.reported_at, now)
            self._meter(ev, force=False)

    def drawing(self) -> bool:
        """Whether an EVSE draws power.  Only then does time change the model by itself (energy,
        a reading every ``meter_interval``); otherwise :meth:`advance` emits nothing until a
        command or an action changes something."""
        supply = self._supply
        return any(supply.power(ev) > 0 for ev in self._evses.values())

    def take_events(self) -> list[HalEvent]:
        events, self._events = self._events, []
        return events

    def snapshot(self) -> list[HalEvent]:
        """The full current state: controller-wide faults, then per EVSE its plugs, pilot,
        contactor, active faults, locks and a meter reading."""
        events: list[HalEvent] = [FaultChanged(0, code, True) for code in self._faults]
        for ev in self._evses.values():
            events.extend(PlugChanged(ev.id, c, c == ev.plugged) for c in ev.connectors)
            events.append(PilotStateChanged(ev.id, ev.pilot))
            events.append(ContactorChanged(ev.id, ev.contactor))
            events.extend(FaultChanged(ev.id, code, True) for code in ev.faults)
            events.extend(LockChanged(ev.id, c, locked) for c, locked in ev.locks.items())
            events.append(self._supply.reading(ev))
        return events

    def status(self) -> dict[str, Any]:
        evses = []
        for ev in self._evses.values():
            reading = self._supply.reading(ev)
            evses.append(
                {
                    "id": ev.id,
                    "connectors": list(ev.connectors),
                    "plugged_connector": ev.plugged,
                    "pilot": str(ev.pilot),
                    "ev_request": (
                        str(ev.ev_error or ev.ev_request) if ev.plugged and ev.ev_attached else None
                    ),
                    "contactor_closed": ev.contactor,
                    "enabled": ev.enabled,
                    "power_allowed": ev.power_allowed,
                    "limit_a": ev.limit_a,
                    "limit_phases": ev.limit_phases,
                    "faults": list(ev.faults),
                    "locks": [{"connector": c, "locked": v} for c, v in ev.locks.items()],
                    "energy_wh": reading.energy_wh,
                    "power_w": reading.power_w,
                    "current_a": list(reading.current_a),
                    "voltage_v": list(reading.voltage_v),
                }
            )
        return {"time": self._now, "faults": list(self._faults), "evses": evses}

    # -- internals ----------------------------------------------------------------------------

    def _evse(self, evse: object) -> EvseState:
        number = check_integer(evse, "evse")
        ev = self._evses.get(number)
        if ev is None:
            known = ", ".join(str(k) for k in self._evses)
            raise SimError(f"unknown evse {number} (this controller has evse {known})")
        return ev

    def _connector(self, ev: EvseState, connector: object) -> None:
        number = check_integer(connector, "connector")
        if number not in ev.connectors:
            known = ", ".join(str(c) for c in ev.connectors)
            raise SimError(f"unknown connector {number} on evse {ev.id} (it has {known})")

    def _fault_set(self, evse: object) -> dict[str, None]:
        if check_integer(evse, "evse") == 0:
            return self._faults
        return self._evse(evse).faults

    def _update_all(self, evse: int) -> None:
        for ev in self._evses.values() if evse == 0 else [self._evses[evse]]:
            self._update(ev)

    def _offered(self, ev: EvseState) -> bool:
        return ev.enabled and ev.power_allowed and not ev.faults and not self._faults

    def _target(self, ev: EvseState) -> PilotState:
        if ev.plugged is None or not ev.ev_attached:
            return _A
        if ev.ev_error is not None:
            return ev.ev_error
        if ev.ev_request in _DRAWING and self._offered(ev):
            return ev.ev_request
        return _B

    def _update(
        self, ev: EvseState, *, before: Sequence[HalEvent] = (), after: Sequence[HalEvent] = ()
    ) -> None:
        """Bring the reported pilot and contactor to the actual state, emitting the changes."""
        out = self._events
        out.extend(before)
        pilot = self._target(ev)
        closed = pilot in _DRAWING
        changed = bool(before or after)
        if ev.contactor and not closed:
            out.append(ContactorChanged(ev.id, False))
            ev.contactor, changed = False, True
        if pilot is not ev.pilot:
            if ev.pilot is _A and closed:
                out.append(PilotStateChanged(ev.id, _B))  # connects first, then asks
            out.append(PilotStateChanged(ev.id, pilot))
            ev.pilot, changed = pilot, True
        if closed and not ev.contactor:
            out.append(ContactorChanged(ev.id, True))
            ev.contactor, changed = True, True
        out.extend(after)
        self._meter(ev, force=changed)

    def _meter(self, ev: EvseState, *, force: bool) -> None:
        last = ev.reported
        if (
            not force
            and not ev.contactor
            and last is not None
            and last.power_w == 0
            and last.current_a == _NO_CURRENT
        ):
            return  # an open contactor after a reading of nothing: the same reading, not due
        reading = self._supply.reading(ev)
        instant_changed = last is None or (
            (last.power_w, last.current_a, last.voltage_v)
            != (reading.power_w, reading.current_a, reading.voltage_v)
        )
        due = reading.power_w > 0 and self._now - ev.reported_at >= self._meter_interval
        if force or instant_changed or due:
            self._events.append(reading)
            ev.reported, ev.reported_at = reading, self._now
