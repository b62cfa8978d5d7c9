"""The messages of the HAL wire protocol: the commands the station sends, the link-control
messages both ends exchange, and the type byte and ACK/NACK codes of each.

The events the MCU reports are the typed events of :mod:`hal.types` plus :class:`StateEnd`.
How each message is laid out in bytes is :mod:`hal.codec`; ``hal/PROTOCOL.md`` section 2 lists
them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from hal.types import (
    ContactorChanged,
    FaultChanged,
    HalEvent,
    IdTokenPresented,
    LockChanged,
    MeterReading,
    PilotStateChanged,
    PlugChanged,
)


class MsgType(IntEnum):
    # station -> MCU commands (reliable: acknowledged)
    ENABLE = 0x01
    ALLOW_POWER = 0x02
    SET_CURRENT_LIMIT = 0x03
    LOCK = 0x04
    RESET = 0x05
    STATE_REQUEST = 0x06
    # link control (both directions, never acknowledged)
    ACK = 0x10
    NACK = 0x11
    PING = 0x12
    PONG = 0x13
    # MCU -> station events (reliable: acknowledged)
    PILOT = 0x20
    PLUG = 0x21
    ID_TOKEN = 0x22
    METER = 0x23
    CONTACTOR = 0x24
    FAULT = 0x25
    LOCK_STATE = 0x26
    STATE_END = 0x27


class AckResult(IntEnum):
    OK = 0  # executed
    DUPLICATE = 1  # a repeat of the last message: acknowledged again, not executed again


class NackCode(IntEnum):
    MALFORMED = 1  # the body does not match the type's layout
    UNKNOWN_TYPE = 2  # the type byte is not defined
    INVALID_ARGUMENT = 3  # well-formed, but a value is out of range for this controller
    UNKNOWN_EVSE = 4  # no such EVSE or connector
    REFUSED = 5  # valid, but the controller cannot do it now
    UNEXPECTED = 6  # a message the receiver never accepts in this direction


# --- commands and link-control messages ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Enable:
    evse: int
    enabled: bool


@dataclass(frozen=True, slots=True)
class AllowPower:
    evse: int
    allowed: bool


@dataclass(frozen=True, slots=True)
class SetCurrentLimit:
    evse: int
    amps: float  # per phase, 0.01 A resolution on the wire, 0 .. 655.35
    phases: int = 3


@dataclass(frozen=True, slots=True)
class Lock:
    evse: int
    connector: int
    locked: bool


@dataclass(frozen=True, slots=True)
class Reset:
    pass


@dataclass(frozen=True, slots=True)
class StateRequest:
    """Ask the MCU to report its full state as events, closed by :class:`StateEnd`."""


@dataclass(frozen=True, slots=True)
class Ack:
    result: int = AckResult.OK


@dataclass(frozen=True, slots=True)
class Nack:
    code: int


@dataclass(frozen=True, slots=True)
class Ping:
    pass


@dataclass(frozen=True, slots=True)
class Pong:
    pass


@dataclass(frozen=True, slots=True)
class StateEnd:
    """The last event answering a :class:`StateRequest`."""


Command = Enable | AllowPower | SetCurrentLimit | Lock | Reset | StateRequest
LinkControl = Ack | Nack | Ping | Pong
Message = Command | LinkControl | StateEnd | HalEvent

COMMANDS = (Enable, AllowPower, SetCurrentLimit, Lock, Reset, StateRequest)
EVENTS = (
    PilotStateChanged,
    PlugChanged,
    IdTokenPresented,
    MeterReading,
    ContactorChanged,
    FaultChanged,
    LockChanged,
    StateEnd,
)
UNACKNOWLEDGED_TYPES = frozenset({MsgType.ACK, MsgType.NACK, MsgType.PING, MsgType.PONG})


def is_reliable(msg: Message) -> bool:
    """True for commands and events (sent with a sequence number and acknowledged)."""
    return not isinstance(msg, Ack | Nack | Ping | Pong)
