"""The OCPP-J rules of one RPC endpoint, without I/O (sans-I/O).

An :class:`RpcConnection` is fed with what happens (text received, a handler's result, a call
made, the time ``now`` in seconds on any clock) and returns what to do as a list of outputs; it
never sends, sleeps or starts anything itself:

* :class:`SendCall` – transmit this CALL now; it is the one in flight.
* :class:`SendAnswer` – transmit this CALLRESULT/CALLERROR, the answer to an incoming CALL.
* :class:`Dispatch` – run the handler of this incoming CALL, then report its result with
  :meth:`RpcConnection.respond` or :meth:`RpcConnection.respond_error`.
* :class:`CallDone` / :class:`CallFailed` – the outcome of an outgoing call.
* :class:`Note` – something worth logging (a dropped frame, an answer that could not be made).

The rules:

* At most one outgoing CALL is in flight (Part 4 section 4.1.1); later calls wait in FIFO order.
  A call's deadline (``timeout()`` seconds, OCPPCommCtrlr.MessageTimeout, read for every call)
  starts when it goes out; :meth:`RpcConnection.next_deadline` says when to call
  :meth:`RpcConnection.expire`.
* A CALLRESULT/CALLERROR is matched to the CALL in flight by message id; one with an unknown or
  stale id is dropped, never answered.  A CALLRESULT payload is validated against the response
  schema (after the one repair of :mod:`~ocpp_station.rpc.leniency`: a BootNotificationResponse
  time without UTC offset is read as UTC, with a warning); a CALLERROR with a code Part 4 does not
  name becomes ``GenericError``.
* A malformed frame that is (or could have been) a CALL is answered with the CALLERROR that
  :func:`~ocpp_station.rpc.frames.parse` names (id ``"-1"`` when none can be read); a broken
  CALLRESULT/CALLERROR is never answered, so two endpoints cannot loop on errors.
* An incoming CALL is checked in this order: the id of a CALL still being handled
  (RpcFrameworkError, Part 4 section 4.2.3), an action OCPP 2.0.1 does not define
  (NotImplemented), one without a handler (NotSupported), the request schema, then ``gate``.
* Answers never cross connections: a handler that finishes after the connection was lost has its
  answer dropped.  errorDescription is cut to 255 characters (Part 4 section 4.2.3).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ocpp_station.rpc.errors import (
    CallTimeout,
    ConnectionLost,
    ErrorCode,
    InvalidRequest,
    OCPPError,
    SchemaUnavailable,
)
from ocpp_station.rpc.frames import (
    Call,
    CallError,
    CallResult,
    FrameError,
    encode,
    lone_surrogate_path,
    may_hold_surrogate,
    new_message_id,
    parse,
)
from ocpp_station.rpc.leniency import repair_response
from ocpp_station.rpc.validation import SchemaRegistry, default_registry

DESCRIPTION_MAX_LENGTH = 255  # Part 4 section 4.2.3: errorDescription is string[255]


@dataclass(frozen=True, slots=True)
class SendCall:
    message_id: str
    action: str
    text: str
    deadline: float  # when it times out unless answered


@dataclass(frozen=True, slots=True)
class SendAnswer:
    message_id: str
    text: str
    result: bool  # a CALLRESULT carrying the handler's payload (not a CALLERROR)


@dataclass(frozen=True, slots=True)
class Dispatch:
    call: Call
    generation: int  # the connection the CALL came on


@dataclass(frozen=True, slots=True)
class CallDone:
    message_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallFailed:
    message_id: str
    error: OCPPError | CallTimeout | ConnectionLost


@dataclass(frozen=True, slots=True)
class Note:
    level: int  # a logging level
    message: str
    # what kind of event, without ids: repeats of one kind are rate-limited by the endpoint
    kind: str = field(default="", compare=False)


Output = SendCall | SendAnswer | Dispatch | CallDone | CallFailed | Note


@dataclass(slots=True)
class _Outgoing:
    message_id: str
    action: str
    text: str
    seconds: float = 0.0
    deadline: float = 0.0  # set when it goes out


class RpcConnection:
    def __init__(
        self,
        *,
        timeout: Callable[[], float],
        registry: SchemaRegistry | None = None,
        new_id: Callable[[], str] = new_message_id,
    ) -> None:
        self._timeout = timeout
        self._registry = registry or default_registry()
        self._new_id = new_id
        self._supported: set[str] = set()
        self._in_flight: _Outgoing | None = None
        self._waiting: deque[_Outgoing] = deque()
        self._incoming: set[str] = set()  # ids of CALLs being handled now
        self._generation = 0  # bumped on connection loss: answers never cross connections
        self._closed = False
        self.gate: Callable[[str], OCPPError | None] | None = None

    def support(self, action: str) -> None:
        """Say that a handler for ``action`` exists (raise ``ValueError`` for a non-2.0.1 one)."""
        if action not in self._registry.actions:
            raise ValueError(f"{action!r} is not an OCPP 2.0.1 action")
        self._supported.add(action)

    @property
    def in_flight(self) -> str | None:
        """The message id of the CALL awaiting its answer, if any."""
        return self._in_flight.message_id if self._in_flight is not None else None

    @property
    def waiting(self) -> int:
        """How many calls wait for the one in flight to finish."""
        return len(self._waiting)

    @property
    def closed(self) -> bool:
        return self._closed

    # -- outgoing ---------------------------------------------------------------------------------

    def call(self, action: str, payload: dict[str, Any], now: float) -> tuple[str, list[Output]]:
        """Queue a CALL; return its message id and the outputs (a :class:`SendCall` when it can go
        out at once).  Raise :class:`InvalidRequest` (an :class:`OCPPError`) for a request that
        breaks its schema or that JSON or UTF-8 cannot carry (nothing is queued),
        :class:`ConnectionLost` once closed."""
        if self._closed:
            raise ConnectionLost(f"{action}: the RPC endpoint is closed")
        try:
            self._registry.validate(action, "request", payload)
        except SchemaUnavailable:
            raise  # not the request's fault: it may go later
        except OCPPError as invalid:
            raise InvalidRequest(invalid.code, invalid.description, invalid.details) from None
        message_id = self._new_id()
        try:
            text = encode(Call(message_id, action, payload))
        except (TypeError, ValueError) as exc:
            raise InvalidRequest(ErrorCode.FORMAT_VIOLATION, f"not JSON: {exc}") from None
        where = lone_surrogate_path(payload) if may_hold_surrogate(text) else None
        if where is not None:  # Part 4 section 4.1.2: a message is UTF-8 text
            raise InvalidRequest(
                ErrorCode.FORMAT_VIOLATION, f"{where} is not valid UTF-8 text (lone surrogate)"
            )
        self._waiting.append(_Outgoing(message_id, action, text))
        return message_id, self._next(now)

    def send_failed(self, message_id: str, reason: str, now: float) -> list[Output]:
        """Transmitting the CALL failed: it fails with :class:`ConnectionLost`; the next goes."""
        out = self._in_flight
        if out is None or out.message_id != message_id:
            return []  # already timed out or given up
        return self._finish(
            CallFailed(message_id, ConnectionLost(f"sending {out.action} failed: {reason}")), now
        )

    def cancel(self, message_id: str, now: float) -> list[Output]:
        """The caller gave up on a call: forget it (a late answer is then dropped as stale)."""
        out = self._in_flight
        if out is not None and out.message_id == message_id:
            self._in_flight = None
            return self._next(now)
        for waiting in self._waiting:
            if waiting.message_id == message_id:
                self._waiting.remove(waiting)
                break
        return []

    def next_deadline(self) -> float | None:
        """When the CALL in flight times out (None when nothing is in flight)."""
        return self._in_flight.deadline if self._in_flight is not None else None

    def expire(self, now: float) -> list[Output]:
        """Fail the CALL in flight with :class:`CallTimeout` if its deadline has passed."""
        out = self._in_flight
        if out is None or now < out.deadline:
            return []
        timeout = CallTimeout(f"{out.action} not answered within {out.seconds:g} s")
        return self._finish(CallFailed(out.message_id, timeout), now)

    def _next(self, now: float) -> list[Output]:
        if self._in_flight is not None or not self._waiting or self._closed:
            return []
        out = self._waiting.popleft()
        out.seconds = self._timeout()
        out.deadline = now + out.seconds
        self._in_flight = out
        return [SendCall(out.message_id, out.action, out.text, out.deadline)]

    def _finish(self, outcome: CallDone | CallFailed, now: float) -> list[Output]:
        self._in_flight = None
        return [outcome, *self._next(now)]

    # -- incoming ---------------------------------------------------------------------------------

    def receive(self, text: str | bytes, now: float) -> list[Output]:
        """One websocket message received."""
        if self._closed:
            return [Note(logging.WARNING, "message dropped: the RPC endpoint is closed", "closed")]
        try:
            frame = parse(text)
        except FrameError as exc:
            if not exc.answerable:  # a broken CALLRESULT/CALLERROR: never answer it (no loops)
                kind = "malformed response"
                return [Note(logging.WARNING, f"malformed response dropped: {exc}", kind)]
            note = Note(
                logging.WARNING,
                f"malformed message answered with {exc.code}: {exc}",
                f"malformed message {exc.code}",
            )
            return [note, *self._answer_error(exc.message_id, exc)]
        if isinstance(frame, Call):
            return self._on_call(frame)
        return self._on_answer(frame, now)

    def _on_answer(self, frame: CallResult | CallError, now: float) -> list[Output]:
        out = self._in_flight
        if out is None or out.message_id != frame.message_id:
            kind = type(frame).__name__
            message = f"dropped {kind} with unknown or stale message id {frame.message_id!r}"
            return [Note(logging.WARNING, message, f"stale {kind}")]
        if isinstance(frame, CallError):
            return self._finish(CallFailed(out.message_id, _received_error(frame)), now)
        # The one leniency: a BootNotificationResponse.currentTime without UTC offset is read
        # as UTC (leniency.py); everything else is validated strictly.
        payload, repaired = repair_response(out.action, frame.payload)
        try:
            self._registry.validate(out.action, "response", payload)
        except OCPPError as invalid:
            return self._finish(CallFailed(out.message_id, invalid), now)
        notes: list[Output] = [] if repaired is None else [Note(logging.WARNING, repaired)]
        return [*notes, *self._finish(CallDone(out.message_id, payload), now)]

    def _on_call(self, call: Call) -> list[Output]:
        if call.message_id in self._incoming:
            # Part 4 section 4.2.3: a CALL with the id of one still being handled is an error.
            error = OCPPError(
                ErrorCode.RPC_FRAMEWORK_ERROR,
                f"a CALL with message id {call.message_id!r} is already being handled",
            )
            return self._answer_error(call.message_id, error)
        try:
            self._accept(call)
        except OCPPError as error:
            note = Note(
                logging.INFO,
                f"answering {call.action} {call.message_id} with {error}",
                f"answering {call.action[:40]} with {error.code}",
            )
            return [note, *self._answer_error(call.message_id, error)]
        self._incoming.add(call.message_id)
        return [Dispatch(call, self._generation)]

    def _accept(self, call: Call) -> None:
        """The checks before dispatch, in order; raise the OCPPError to answer with."""
        if call.action not in self._registry.actions:
            raise OCPPError(
                ErrorCode.NOT_IMPLEMENTED, f"{call.action!r} is not an OCPP 2.0.1 action"
            )
        if call.action not in self._supported:
            raise OCPPError(ErrorCode.NOT_SUPPORTED, f"{call.action} is not supported")
        self._registry.validate(call.action, "request", call.payload)
        if self.gate is not None:
            refusal = self.gate(call.action)
            if refusal is not None:
                raise refusal

    # -- handler results --------------------------------------------------------------------------

    def respond(self, dispatch: Dispatch, payload: Any) -> list[Output]:
        """The handler returned ``payload``: the answer if a valid response, else InternalError."""
        action = dispatch.call.action
        if not isinstance(payload, dict):
            problem = f"{action} handler returned {type(payload).__name__}, not a dict"
            internal = f"{action} failed: TypeError"
            return [Note(logging.ERROR, problem), *self._internal_error(dispatch, internal)]
        try:
            self._registry.validate(action, "response", payload)
        except OCPPError as invalid:  # (SchemaUnavailable: it could not be checked)
            note = Note(logging.ERROR, f"{action} response refused: {invalid}")
            return [note, *self._internal_error(dispatch, f"{action} response not sent")]
        return self._answer(dispatch, CallResult(dispatch.call.message_id, payload))

    def respond_error(self, dispatch: Dispatch, error: OCPPError) -> list[Output]:
        """The handler of ``dispatch`` raised ``error``: answer with that CALLERROR."""
        return self._answer(dispatch, _error_frame(dispatch.call.message_id, error))

    def _internal_error(self, dispatch: Dispatch, description: str) -> list[Output]:
        return self.respond_error(dispatch, OCPPError(ErrorCode.INTERNAL_ERROR, description))

    def _answer(self, dispatch: Dispatch, frame: CallResult | CallError) -> list[Output]:
        if dispatch.generation != self._generation:
            message = f"answer to {frame.message_id} dropped: the connection was lost"
            return [Note(logging.WARNING, message)]
        self._incoming.discard(frame.message_id)
        return _encode_answer(frame)

    def _answer_error(self, message_id: str, error: OCPPError) -> list[Output]:
        return _encode_answer(_error_frame(message_id, error))

    # -- lifecycle --------------------------------------------------------------------------------

    def connection_lost(self, now: float) -> list[Output]:
        """The websocket closed: the CALL in flight fails with :class:`ConnectionLost` and the next
        waiting one goes out (on the next connection, or failing in its turn); answers of CALLs
        still being handled are dropped."""
        self._generation += 1
        self._incoming.clear()
        out = self._in_flight
        if out is None:
            return []
        lost = ConnectionLost(f"connection lost during {out.action}")
        return self._finish(CallFailed(out.message_id, lost), now)

    def close(self) -> list[Output]:
        """Close for good: every call in flight or waiting fails with :class:`ConnectionLost`;
        later calls raise it and received text is dropped."""
        self._closed = True
        self._generation += 1
        self._incoming.clear()
        pending = [self._in_flight, *self._waiting] if self._in_flight else [*self._waiting]
        self._in_flight = None
        self._waiting.clear()
        return [
            CallFailed(out.message_id, ConnectionLost(f"{out.action}: the RPC endpoint was closed"))
            for out in pending
        ]


def _received_error(frame: CallError) -> OCPPError:
    try:
        code = ErrorCode(frame.code)
    except ValueError:  # not a Part 4 code: keep the text, say what it was
        return OCPPError(
            ErrorCode.GENERIC_ERROR, f"[{frame.code}] {frame.description}", frame.details
        )
    return OCPPError(code, frame.description, frame.details)


def _error_frame(message_id: str, error: OCPPError) -> CallError:
    description = error.description
    if len(description) > DESCRIPTION_MAX_LENGTH:
        description = description[: DESCRIPTION_MAX_LENGTH - 3] + "..."
    return CallError(message_id, error.code.value, description, error.details)


def _encode_answer(frame: CallResult | CallError) -> list[Output]:
    try:
        return [SendAnswer(frame.message_id, encode(frame), isinstance(frame, CallResult))]
    except (TypeError, ValueError) as exc:
        if isinstance(frame, CallResult):
            note = Note(
                logging.ERROR, f"CALLRESULT {frame.message_id} is not JSON-encodable: {exc}"
            )
            code, description = ErrorCode.INTERNAL_ERROR.value, "response not encodable"
        else:  # the details were not encodable: drop them, keep the error
            note = Note(logging.WARNING, f"CALLERROR {frame.message_id} details dropped: {exc}")
            code, description = frame.code, frame.description
        fallback = CallError(frame.message_id, code, description, {})
        return [note, SendAnswer(frame.message_id, encode(fallback), False)]
