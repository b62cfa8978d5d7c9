"""The HAL wire codec: every message of :mod:`hal.messages` (commands, link control, and the
events of :mod:`hal.types`) as a compact binary message.

Pure (no I/O).  A message is one type byte followed by a fixed or length-prefixed body; multi-byte
integers are big-endian.  ``hal/PROTOCOL.md`` documents every layout byte by byte; the serial
framing (:mod:`hal.framing`) and the CAN mapping (:mod:`hal.canbus`) carry these bytes unchanged.

``decode`` raises :class:`CodecError` (or its subclass :class:`UnknownMessageType`) for anything
malformed and never another exception.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Any

from hal.messages import (
    Ack,
    AllowPower,
    Enable,
    Lock,
    Message,
    MsgType,
    Nack,
    Ping,
    Pong,
    Reset,
    SetCurrentLimit,
    StateEnd,
    StateRequest,
)
from hal.types import (
    ContactorChanged,
    FaultChanged,
    IdTokenPresented,
    LockChanged,
    MeterReading,
    PilotState,
    PilotStateChanged,
    PlugChanged,
)


class CodecError(ValueError):
    """A message that cannot be encoded or decoded; the text names the field and the problem."""


class UnknownMessageType(CodecError):
    """The type byte is not one this protocol version defines."""


# OCPP 2.0.1 IdTokenEnumType values and their wire codes.
ID_TOKEN_TYPES: tuple[str, ...] = (
    "ISO14443",
    "ISO15693",
    "KeyCode",
    "Local",
    "MacAddress",
    "NoAuthorization",
    "Central",
    "eMAID",
)
ID_TOKEN_MAX = 36  # IdTokenType.idToken is identifierString[36]
FAULT_CODE_MAX = 50
PILOT_STATES: tuple[str, ...] = ("A", "B", "C", "D", "E", "F")

_CURRENT_MAX = 0xFFFF / 100  # u16, 0.01 A
_VOLTAGE_MAX = 0xFFFF / 10  # u16, 0.1 V
_ENERGY_MAX = float(2**53)  # u64 on the wire, Wh; limited to exact float integers
_POWER_MIN, _POWER_MAX = -(2**31), 2**31 - 1  # i32, W

# --- field helpers --------------------------------------------------------------------------------


def _u8(name: str, value: Any, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 255:
        raise CodecError(f"{name} must be an integer {low}..255, got {value!r}")
    return value


def _flag(name: str, value: Any) -> int:
    if not isinstance(value, bool):
        raise CodecError(f"{name} must be a bool, got {value!r}")
    return int(value)


def _scaled(name: str, value: Any, scale: int, low: float, high: float) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CodecError(f"{name} must be a finite number, got {value!r}")
    if not low <= value <= high:
        raise CodecError(f"{name} must be within {low:g}..{high:g}, got {value!r}")
    return round(value * scale)


def _text(name: str, value: Any, low: int, high: int) -> bytes:
    if not isinstance(value, str):
        raise CodecError(f"{name} must be a string, got {value!r}")
    try:
        raw = value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CodecError(f"{name} is not encodable as UTF-8: {exc}") from None
    if not low <= len(raw) <= high:
        raise CodecError(f"{name} must be {low}..{high} UTF-8 bytes, got {len(raw)}")
    return raw


def _get_bool(name: str, raw: int) -> bool:
    if raw > 1:
        raise CodecError(f"{name} must be 0 or 1, got {raw}")
    return raw == 1


def _get_text(name: str, raw: bytes, low: int) -> str:
    if len(raw) < low:
        raise CodecError(f"{name} must not be empty")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CodecError(f"{name} is not valid UTF-8: {exc.reason}") from None


def _pilot(value: Any) -> int:
    if not isinstance(value, str) or value not in PILOT_STATES:
        raise CodecError(f"pilot state must be one of A..F, got {value!r}")
    return ord(value)


# --- encode -------------------------------------------------------------------------------------


def _enc_meter(m: MeterReading) -> bytes:
    if len(m.current_a) != 3 or len(m.voltage_v) != 3:
        raise CodecError("meter reading needs exactly 3 currents and 3 voltages")
    body = struct.pack(
        ">BQi",
        _u8("evse", m.evse),
        _scaled("energy_wh", m.energy_wh, 1, 0, _ENERGY_MAX),
        _scaled("power_w", m.power_w, 1, _POWER_MIN, _POWER_MAX),
    )
    body += struct.pack(
        ">3H",
        *(_scaled(f"current_a[{i}]", a, 100, 0, _CURRENT_MAX) for i, a in enumerate(m.current_a)),
    )
    body += struct.pack(
        ">3H",
        *(_scaled(f"voltage_v[{i}]", v, 10, 0, _VOLTAGE_MAX) for i, v in enumerate(m.voltage_v)),
    )
    return bytes([MsgType.METER]) + body


def _enc_id_token(m: IdTokenPresented) -> bytes:
    if m.type not in ID_TOKEN_TYPES:
        raise CodecError(
            f"id token type must be one of {', '.join(ID_TOKEN_TYPES)}, got {m.type!r}"
        )
    token = _text("id_token", m.id_token, 0, ID_TOKEN_MAX)
    head = [MsgType.ID_TOKEN, _u8("evse", m.evse), ID_TOKEN_TYPES.index(m.type), len(token)]
    return bytes(head) + token


def _enc_fault(m: FaultChanged) -> bytes:
    code = _text("fault code", m.code, 1, FAULT_CODE_MAX)
    head = [MsgType.FAULT, _u8("evse", m.evse), _flag("active", m.active), len(code)]
    return bytes(head) + code


def _enc_limit(m: SetCurrentLimit) -> bytes:
    amps = _scaled("amps", m.amps, 100, 0, _CURRENT_MAX)
    phases = _u8("phases", m.phases, 1)
    if phases > 3:
        raise CodecError(f"phases must be 1, 2 or 3, got {phases}")
    return struct.pack(">BBHB", MsgType.SET_CURRENT_LIMIT, _u8("evse", m.evse), amps, phases)


_ENCODERS: dict[type, Callable[[Any], bytes]] = {
    Enable: lambda m: bytes([MsgType.ENABLE, _u8("evse", m.evse), _flag("enabled", m.enabled)]),
    AllowPower: lambda m: bytes(
        [MsgType.ALLOW_POWER, _u8("evse", m.evse), _flag("allowed", m.allowed)]
    ),
    SetCurrentLimit: _enc_limit,
    Lock: lambda m: bytes(
        [
            MsgType.LOCK,
            _u8("evse", m.evse),
            _u8("connector", m.connector),
            _flag("locked", m.locked),
        ]
    ),
    Reset: lambda m: bytes([MsgType.RESET]),
    StateRequest: lambda m: bytes([MsgType.STATE_REQUEST]),
    Ack: lambda m: bytes([MsgType.ACK, _u8("ack result", m.result)]),
    Nack: lambda m: bytes([MsgType.NACK, _u8("nack code", m.code)]),
    Ping: lambda m: bytes([MsgType.PING]),
    Pong: lambda m: bytes([MsgType.PONG]),
    PilotStateChanged: lambda m: bytes([MsgType.PILOT, _u8("evse", m.evse), _pilot(m.state)]),
    PlugChanged: lambda m: bytes(
        [
            MsgType.PLUG,
            _u8("evse", m.evse),
            _u8("connector", m.connector),
            _flag("plugged", m.plugged),
        ]
    ),
    IdTokenPresented: _enc_id_token,
    MeterReading: _enc_meter,
    ContactorChanged: lambda m: bytes(
        [MsgType.CONTACTOR, _u8("evse", m.evse), _flag("closed", m.closed)]
    ),
    FaultChanged: _enc_fault,
    LockChanged: lambda m: bytes(
        [
            MsgType.LOCK_STATE,
            _u8("evse", m.evse),
            _u8("connector", m.connector),
            _flag("locked", m.locked),
        ]
    ),
    StateEnd: lambda m: bytes([MsgType.STATE_END]),
}


def encode(msg: Message) -> bytes:
    """The wire bytes of ``msg``; :class:`CodecError` names the field that does not fit."""
    encoder = _ENCODERS.get(type(msg))
    if encoder is None:
        raise CodecError(f"{type(msg).__name__} is not a HAL protocol message")
    return encoder(msg)


# --- decode -------------------------------------------------------------------------------------


def _fixed(body: bytes, size: int, what: str) -> bytes:
    if len(body) != size:
        raise CodecError(f"{what} body must be {size} bytes, got {len(body)}")
    return body


def _dec_limit(body: bytes) -> Message:
    evse, amps, phases = struct.unpack(">BHB", _fixed(body, 4, "SET_CURRENT_LIMIT"))
    if not 1 <= phases <= 3:
        raise CodecError(f"phases must be 1, 2 or 3, got {phases}")
    return SetCurrentLimit(evse, amps / 100, phases)


def _dec_pilot(body: bytes) -> Message:
    evse, state = _fixed(body, 2, "PILOT")
    letter = chr(state)
    if letter not in PILOT_STATES:
        raise CodecError(f"pilot state must be ASCII A..F, got 0x{state:02x}")
    return PilotStateChanged(evse, PilotState(letter))


def _dec_id_token(body: bytes) -> Message:
    if len(body) < 3:
        raise CodecError(f"ID_TOKEN body must be at least 3 bytes, got {len(body)}")
    evse, code, length = body[0], body[1], body[2]
    if code >= len(ID_TOKEN_TYPES):
        raise CodecError(f"unknown id token type code {code}")
    if length > ID_TOKEN_MAX or len(body) != 3 + length:
        raise CodecError(f"id token length {length} does not match the body ({len(body) - 3})")
    return IdTokenPresented(evse, _get_text("id_token", body[3:], 0), ID_TOKEN_TYPES[code])


def _dec_meter(body: bytes) -> Message:
    evse, energy, power, *rest = struct.unpack(">BQi3H3H", _fixed(body, 25, "METER"))
    if energy > _ENERGY_MAX:
        raise CodecError(f"energy_wh {energy} is beyond 2**53 Wh: not a plausible register")
    current = (rest[0] / 100, rest[1] / 100, rest[2] / 100)
    voltage = (rest[3] / 10, rest[4] / 10, rest[5] / 10)
    return MeterReading(evse, float(energy), float(power), current, voltage)


def _dec_fault(body: bytes) -> Message:
    if len(body) < 3:
        raise CodecError(f"FAULT body must be at least 3 bytes, got {len(body)}")
    evse, active, length = body[0], body[1], body[2]
    if not 1 <= length <= FAULT_CODE_MAX or len(body) != 3 + length:
        raise CodecError(f"fault code length {length} does not match the body ({len(body) - 3})")
    return FaultChanged(evse, _get_text("fault code", body[3:], 1), _get_bool("active", active))


def _two(body: bytes, what: str) -> tuple[int, bool]:
    evse, flag = _fixed(body, 2, what)
    return evse, _get_bool(f"{what} flag", flag)


def _three(body: bytes, what: str) -> tuple[int, int, bool]:
    evse, connector, flag = _fixed(body, 3, what)
    return evse, connector, _get_bool(f"{what} flag", flag)


def _empty(body: bytes, what: str, msg: Message) -> Message:
    _fixed(body, 0, what)
    return msg


_DECODERS: dict[int, Callable[[bytes], Message]] = {
    MsgType.ENABLE: lambda b: Enable(*_two(b, "ENABLE")),
    MsgType.ALLOW_POWER: lambda b: AllowPower(*_two(b, "ALLOW_POWER")),
    MsgType.SET_CURRENT_LIMIT: _dec_limit,
    MsgType.LOCK: lambda b: Lock(*_three(b, "LOCK")),
    MsgType.RESET: lambda b: _empty(b, "RESET", Reset()),
    MsgType.STATE_REQUEST: lambda b: _empty(b, "STATE_REQUEST", StateRequest()),
    MsgType.ACK: lambda b: Ack(_fixed(b, 1, "ACK")[0]),
    MsgType.NACK: lambda b: Nack(_fixed(b, 1, "NACK")[0]),
    MsgType.PING: lambda b: _empty(b, "PING", Ping()),
    MsgType.PONG: lambda b: _empty(b, "PONG", Pong()),
    MsgType.PILOT: _dec_pilot,
    MsgType.PLUG: lambda b: PlugChanged(*_three(b, "PLUG")),
    MsgType.ID_TOKEN: _dec_id_token,
    MsgType.METER: _dec_meter,
    MsgType.CONTACTOR: lambda b: ContactorChanged(*_two(b, "CONTACTOR")),
    MsgType.FAULT: _dec_fault,
    MsgType.LOCK_STATE: lambda b: LockChanged(*_three(b, "LOCK_STATE")),
    MsgType.STATE_END: lambda b: _empty(b, "STATE_END", StateEnd()),
}


def decode(data: bytes) -> Message:
    """The message in ``data`` (exactly one, no trailing bytes); :class:`CodecError` otherwise."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CodecError(f"decode needs bytes, got {type(data).__name__}")
    data = bytes(data)
    if not data:
        raise CodecError("empty message: no type byte")
    decoder = _DECODERS.get(data[0])
    if decoder is None:
        raise UnknownMessageType(f"unknown message type 0x{data[0]:02x}")
    try:
        return decoder(data[1:])
    except CodecError:
        raise
    except (struct.error, ValueError, IndexError) as exc:  # defensive: reported, never leaked
        raise CodecError(f"malformed message type 0x{data[0]:02x}: {exc}") from None
