"""The charge-controller interface: commands the station sends, events the controller reports.

One :class:`ChargeController` serves a whole station (all its EVSEs).  Every backend (``sim``,
``serial``, ``can`` or one a firmware team registers) implements the same abstract class and
reports the same typed events, so the station core never knows which hardware it drives.

Optional capability: a controller with a ``display`` attribute that has ``show(lines)`` (a list of
dicts, most urgent first: the display messages of the CSMS and the tariff and cost lines, see
``ocpp_station.blocks.display.interface``) gets what the station shows; the ``sim`` backend keeps
the lines (``SimBackend.display.lines``, and ``display`` in its ``status()``).  Without it nothing
is shown, and the station still publishes the lines (``display_messages``).
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum


class PilotState(StrEnum):
    """IEC 61851-1 control-pilot states."""

    A = "A"  # no EV connected
    B = "B"  # EV connected, not ready / not asking for energy
    C = "C"  # EV connected, asking for energy (charging)
    D = "D"  # as C, with ventilation required
    E = "E"  # short circuit / no pilot (error)
    F = "F"  # EVSE not available (error)


@dataclass(frozen=True, slots=True)
class PilotStateChanged:
    evse: int
    state: PilotState


@dataclass(frozen=True, slots=True)
class PlugChanged:
    evse: int
    connector: int
    plugged: bool


@dataclass(frozen=True, slots=True, repr=False)
class IdTokenPresented:
    evse: int  # 0 when the reader is not tied to one EVSE
    id_token: str
    type: str = "ISO14443"  # an OCPP IdTokenEnumType value

    def __repr__(self) -> str:
        # OCPP 2.0.1 C04.FR.04: a PIN (KeyCode) never appears in a log, and events are logged
        shown = "***" if self.type == "KeyCode" else self.id_token
        return f"IdTokenPresented(evse={self.evse!r}, id_token={shown!r}, type={self.type!r})"


@dataclass(frozen=True, slots=True)
class MeterReading:
    evse: int
    energy_wh: float  # Energy.Active.Import.Register, monotonic
    power_w: float  # Power.Active.Import, sum of phases
    current_a: tuple[float, float, float]  # Current.Import L1, L2, L3
    voltage_v: tuple[float, float, float]  # Voltage L1-N, L2-N, L3-N


@dataclass(frozen=True, slots=True)
class ContactorChanged:
    evse: int
    closed: bool  # True = power path closed


@dataclass(frozen=True, slots=True)
class FaultChanged:
    """A fault raised (active) or cleared.  ``evse == 0`` is a controller-wide fault such as
    ``CommunicationLost`` (the controller stopped answering): every connector is Faulted."""

    evse: int
    code: str
    active: bool


@dataclass(frozen=True, slots=True)
class LockChanged:
    evse: int
    connector: int
    locked: bool


HalEvent = (
    PilotStateChanged
    | PlugChanged
    | IdTokenPresented
    | MeterReading
    | ContactorChanged
    | FaultChanged
    | LockChanged
)

COMMUNICATION_LOST = "CommunicationLost"


class HalError(Exception):
    """A command the controller could not carry out (not acknowledged, bad argument, closed)."""


class ChargeController(abc.ABC):
    """A charge controller for one station.  Commands are coroutines that return once the
    controller has acknowledged them (or raise :class:`HalError`); events arrive on
    :meth:`events`, one consumer, in the order the controller reported them."""

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect, then report the controller's full current state as events (plug, pilot,
        contactor, faults, lock, a meter reading per EVSE) so the station starts in sync."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def enable(self, evse: int, enabled: bool) -> None:
        """Make an EVSE usable or not (an Inoperative/Unavailable EVSE is disabled)."""

    @abc.abstractmethod
    async def allow_power(self, evse: int, allowed: bool) -> None:
        """Offer energy to the EV (PWM on, contactor may close when the EV asks) or stop it."""

    @abc.abstractmethod
    async def set_current_limit(self, evse: int, amps: float, phases: int = 3) -> None:
        """Limit the current per phase; the EV draws at most this much."""

    @abc.abstractmethod
    async def lock(self, evse: int, connector: int, locked: bool) -> None: ...

    @abc.abstractmethod
    async def reset(self) -> None: ...

    @abc.abstractmethod
    def events(self) -> AsyncIterator[HalEvent]:
        """The controller's events; iterate once."""
