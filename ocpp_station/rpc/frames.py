"""OCPP-J message framing (OCPP 2.0.1 Part 4, section 4): pure parsing and encoding.

A frame is one JSON array on the websocket:

* CALL       ``[2, "<messageId>", "<Action>", {payload}]``
* CALLRESULT ``[3, "<messageId>", {payload}]``
* CALLERROR  ``[4, "<messageId>", "<errorCode>", "<errorDescription>", {errorDetails}]``

:func:`parse` turns text into one of the frame dataclasses or raises :class:`FrameError`, which
carries the CALLERROR code Part 4 names for the problem and the message id to answer with (``"-1"``
when none could be read, Part 4 section 4.2.3).
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from ocpp_station.rpc.errors import ErrorCode, OCPPError

CALL = 2
CALL_RESULT = 3
CALL_ERROR = 4

MESSAGE_ID_MAX_LENGTH = 36  # Part 4 section 4.1.4: string[36]
UNREADABLE_ID = "-1"  # Part 4 section 4.2.3: the id to answer with when none can be read

# A JSON escape of a UTF-16 surrogate: the only way a lone surrogate gets into a parsed string.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")

_ELEMENTS = {CALL: 4, CALL_RESULT: 3, CALL_ERROR: 5}
_NAMES = {CALL: "CALL", CALL_RESULT: "CALLRESULT", CALL_ERROR: "CALLERROR"}


@dataclass(frozen=True, slots=True)
class Call:
    message_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallResult:
    message_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallError:
    message_id: str
    code: str
    description: str = ""
    details: dict[str, Any] = field(default_factory=dict)


Frame = Call | CallResult | CallError


class FrameError(OCPPError):
    """A frame that is not valid OCPP-J.

    ``message_id`` is the id to answer with (``"-1"`` when unreadable). ``message_type`` is the
    message type number when one could be read (an int), else ``None``: the RPC layer answers only
    frames that are (or could be) a CALL, never a broken CALLRESULT/CALLERROR.
    """

    def __init__(
        self,
        code: ErrorCode,
        description: str,
        message_id: str = UNREADABLE_ID,
        message_type: int | None = None,
    ) -> None:
        super().__init__(code, description)
        self.message_id = message_id
        self.message_type = message_type

    @property
    def answerable(self) -> bool:
        """True when Part 4 wants a CALLERROR back: the frame is, or could have been, a CALL."""
        return self.message_type is None or self.message_type not in (CALL_RESULT, CALL_ERROR)


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN/Infinity; RFC 8259 JSON does not.
    raise ValueError(f"{name} is not valid JSON")


def _decode(text: str | bytes) -> Any:
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:  # Part 4 section 4.1.2: UTF-8 only
            raise FrameError(
                ErrorCode.RPC_FRAMEWORK_ERROR, f"message is not valid UTF-8: {exc.reason}"
            ) from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        message = f"message is not valid JSON: {exc}"
        raise FrameError(ErrorCode.RPC_FRAMEWORK_ERROR, message) from None


def _message_id(raw: list[Any]) -> str:
    if len(raw) < 2:
        raise FrameError(ErrorCode.RPC_FRAMEWORK_ERROR, "message has no message id")
    message_id = raw[1]
    if not isinstance(message_id, str):
        raise FrameError(
            ErrorCode.RPC_FRAMEWORK_ERROR,
            f"message id must be a string, got {type(message_id).__name__}",
        )
    if not message_id:
        raise FrameError(ErrorCode.RPC_FRAMEWORK_ERROR, "message id is empty")
    if not _is_utf8(message_id):
        # Part 4 section 4.1.2: the message must be UTF-8; an id with a lone UTF-16 surrogate
        # cannot be read (nor echoed), so the answer carries "-1" (section 4.2.3).
        raise FrameError(
            ErrorCode.RPC_FRAMEWORK_ERROR, "message id is not valid UTF-8 text (lone surrogate)"
        )
    return message_id


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def lone_surrogate_path(value: Any, path: str = "") -> str | None:
    """The path of the first string (key or value) in ``value`` that UTF-8 cannot encode (it
    holds a lone UTF-16 surrogate), else None.  ``$`` names the payload itself."""
    if isinstance(value, str):
        return None if _is_utf8(value) else (path or "$")
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if not _is_utf8(key):
                return where.encode("utf-8", "backslashreplace").decode("ascii")
            found = lone_surrogate_path(item, where)
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = lone_surrogate_path(item, f"{path}[{i}]")
            if found is not None:
                return found
    return None


def parse(text: str | bytes) -> Frame:
    """Parse one OCPP-J frame; raise :class:`FrameError` naming the problem."""
    raw = _decode(text)
    if not isinstance(raw, list):
        raise FrameError(
            ErrorCode.RPC_FRAMEWORK_ERROR, f"message must be a JSON array, got {_json_type(raw)}"
        )
    if not raw:
        raise FrameError(ErrorCode.RPC_FRAMEWORK_ERROR, "message is an empty array")
    type_id = raw[0]
    if not isinstance(type_id, int) or isinstance(type_id, bool):
        # Read the id anyway so the answer can carry it when it is readable.
        known_id = raw[1] if len(raw) > 1 and isinstance(raw[1], str) and raw[1] else UNREADABLE_ID
        raise FrameError(
            ErrorCode.RPC_FRAMEWORK_ERROR,
            f"message type number must be an integer, got {_json_type(type_id)}",
            known_id,
        )
    try:
        message_id = _message_id(raw)
    except FrameError as exc:
        exc.message_type = type_id
        raise
    if type_id not in _ELEMENTS:
        # Part 4 section 4.4: unknown message type -> MessageTypeNotSupported.
        raise FrameError(
            ErrorCode.MESSAGE_TYPE_NOT_SUPPORTED,
            f"message type number {type_id} is not supported (2, 3 and 4 are)",
            message_id,
            type_id,
        )
    name = _NAMES[type_id]
    if len(message_id) > MESSAGE_ID_MAX_LENGTH:
        raise FrameError(
            ErrorCode.RPC_FRAMEWORK_ERROR,
            f"message id is {len(message_id)} characters, at most {MESSAGE_ID_MAX_LENGTH} allowed",
            message_id,
            type_id,
        )
    if len(raw) != _ELEMENTS[type_id]:
        raise FrameError(
            ErrorCode.RPC_FRAMEWORK_ERROR,
            f"a {name} has {_ELEMENTS[type_id]} elements, got {len(raw)}",
            message_id,
            type_id,
        )
    if type_id == CALL:
        action = raw[2]
        if not isinstance(action, str) or not action:
            raise FrameError(
                ErrorCode.RPC_FRAMEWORK_ERROR,
                f"CALL action must be a non-empty string, got {_json_type(action)}",
                message_id,
                type_id,
            )
        if not _is_utf8(action):
            raise FrameError(
                ErrorCode.RPC_FRAMEWORK_ERROR,
                "CALL action is not valid UTF-8 text (lone surrogate)",
                message_id,
                type_id,
            )
        payload = _payload(raw[3], name, message_id, type_id)
        _check_text(text, payload, name, message_id, type_id)
        return Call(message_id, action, payload)
    if type_id == CALL_RESULT:
        payload = _payload(raw[2], name, message_id, type_id)
        _check_text(text, payload, name, message_id, type_id)
        return CallResult(message_id, payload)
    code, description, details = raw[2], raw[3], raw[4]
    if not isinstance(code, str):
        raise FrameError(
            ErrorCode.RPC_FRAMEWORK_ERROR,
            f"CALLERROR errorCode must be a string, got {_json_type(code)}",
            message_id,
            type_id,
        )
    if not isinstance(description, str):
        raise FrameError(
            ErrorCode.RPC_FRAMEWORK_ERROR,
            f"CALLERROR errorDescription must be a string, got {_json_type(description)}",
            message_id,
            type_id,
        )
    if not isinstance(details, dict):
        raise FrameError(
            ErrorCode.RPC_FRAMEWORK_ERROR,
            f"CALLERROR errorDetails must be an object, got {_json_type(details)}",
            message_id,
            type_id,
        )
    return CallError(message_id, code, description, details)


def _payload(value: Any, name: str, message_id: str, type_id: int) -> dict[str, Any]:
    if value is None:
        # Part 4 section 4.1.5: an absent payload may be written null; {} is preferred.
        return {}
    if not isinstance(value, dict):
        # Part 4 section 4.3: FormatViolation = "Payload for Action is syntactically incorrect".
        raise FrameError(
            ErrorCode.FORMAT_VIOLATION,
            f"{name} payload must be a JSON object, got {_json_type(value)}",
            message_id,
            type_id,
        )
    return value


def may_hold_surrogate(text: str | bytes) -> bool:
    """False when JSON ``text`` surely holds no lone surrogate (a fast look for the escape)."""
    return isinstance(text, str) and _SURROGATE_ESCAPE.search(text) is not None


def _check_text(
    text: str | bytes, payload: dict[str, Any], name: str, message_id: str, type_id: int
) -> None:
    """Part 4 section 4.1.2: the whole message is UTF-8 text.  A ``\\uD800``-style escape of a
    lone surrogate is valid JSON but no UTF-8 text: the payload is syntactically incorrect
    (FormatViolation, section 4.3), never passed on to a handler, a store or a log."""
    if not may_hold_surrogate(text):
        return  # no \\u escape of a surrogate; bytes came from UTF-8 and cannot hold one
    where = lone_surrogate_path(payload)
    if where is not None:
        raise FrameError(
            ErrorCode.FORMAT_VIOLATION,
            f"{name} payload field {where} is not valid UTF-8 text (lone surrogate)",
            message_id,
            type_id,
        )


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def encode(frame: Frame) -> str:
    """Compact UTF-8 JSON for one frame."""
    wire: list[Any]
    if isinstance(frame, Call):
        wire = [CALL, frame.message_id, frame.action, frame.payload]
    elif isinstance(frame, CallResult):
        wire = [CALL_RESULT, frame.message_id, frame.payload]
    else:
        wire = [CALL_ERROR, frame.message_id, frame.code, frame.description, frame.details]
    text = json.dumps(wire, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    if not text.isascii() and not _is_utf8(text):
        # A lone surrogate from a local source: JSON-escaped, the frame is UTF-8 text that
        # means what was given, and the websocket never fails on it.
        text = json.dumps(wire, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return text


_ID_PREFIX = uuid.uuid4().hex[:20]  # 80 random bits, new in every process
_ID_COUNTER = itertools.count(1)


def new_message_id() -> str:
    """A fresh, unique message id, at most 36 characters: this process's random prefix and a
    counter, so an id is never used twice by a station, over connections and restarts alike
    (OCPP-J asks that of every CALL), without a system call per message (a UUID4 reads 16
    random bytes from the kernel each time)."""
    return f"{_ID_PREFIX}-{next(_ID_COUNTER):x}"
