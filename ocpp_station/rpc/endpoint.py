"""The OCPP-J RPC endpoint: one per websocket connection to the CSMS (asyncio, thin).

Outgoing: :meth:`RpcEndpoint.call` validates, keeps at most one CALL in flight (Part 4 section
4.1.1; later callers wait in FIFO order), matches the CALLRESULT/CALLERROR by message id and times
out.  Incoming: :meth:`RpcEndpoint.on_message` parses, validates and dispatches CALLs to the
handlers registered by action, each in its own task, and answers every problem with the CALLERROR
that Part 4 names.  The endpoint sends text through the ``send`` coroutine it is given; it knows
nothing about websockets.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ocpp_station.rpc.errors import ErrorCode, OCPPError
from ocpp_station.rpc.frames import (
    Call,
    CallError,
    CallResult,
    FrameError,
    encode,
    new_message_id,
    parse,
)
from ocpp_station.rpc.validation import SchemaRegistry, default_registry

DESCRIPTION_MAX_LENGTH = 255  # Part 4 section 4.2.3: errorDescription is string[255]


@dataclass
class Reply:
    """A handler result that also runs ``then`` (as a task) right after the CALLRESULT is sent.

    Use it when the specification wants a message to follow the response, e.g. a
    StatusNotification after a ChangeAvailabilityResponse.  ``then`` does not run if sending the
    CALLRESULT failed.
    """

    payload: dict[str, Any]
    then: Callable[[], Awaitable[None]] | None = None


Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | Reply]]


class CallTimeout(Exception):
    """No CALLRESULT/CALLERROR arrived within the timeout."""


class ConnectionLost(Exception):
    """The connection went away before the CALL was answered (or while sending it)."""


@dataclass
class _Pending:
    message_id: str
    action: str
    future: asyncio.Future[CallResult | CallError]


class RpcEndpoint:
    def __init__(
        self,
        send: Callable[[str], Awaitable[None]],
        *,
        registry: SchemaRegistry | None = None,
        timeout: Callable[[], float] = lambda: 30.0,
        logger: logging.Logger | None = None,
    ) -> None:
        self._send = send
        self._registry = registry or default_registry()
        self._timeout = timeout  # OCPPCommCtrlr.MessageTimeout, read for every call
        self._log = logger or logging.getLogger("ocpp_station.rpc")
        self._handlers: dict[str, Handler] = {}
        self._call_lock = asyncio.Lock()  # FIFO: one outgoing CALL in flight
        self._pending: _Pending | None = None
        self._incoming: set[str] = set()  # ids of CALLs being handled now
        self._tasks: set[asyncio.Task[None]] = set()
        self._generation = 0  # bumped on connection loss: answers never cross connections
        self.gate: Callable[[str], OCPPError | None] | None = None
        self.on_frame: Callable[[str, str], None] | None = None

    # -- handler registration --------------------------------------------------------------------

    def route(self, action: str) -> Callable[[Handler], Handler]:
        """Decorator form of :meth:`register`."""

        def decorate(handler: Handler) -> Handler:
            self.register(action, handler)
            return handler

        return decorate

    def register(self, action: str, handler: Handler) -> None:
        if action not in self._registry.actions:
            raise ValueError(f"{action!r} is not an OCPP 2.0.1 action")
        self._handlers[action] = handler

    # -- outgoing ---------------------------------------------------------------------------------

    async def call(
        self, action: str, payload: dict[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        """Send a CALL and return the CALLRESULT payload.

        Raises :class:`OCPPError` for an invalid request (nothing is sent), a CALLERROR answer or
        an invalid response; :class:`CallTimeout`; :class:`ConnectionLost`.
        """
        self._registry.validate(action, "request", payload)
        async with self._call_lock:
            message_id = new_message_id()
            loop = asyncio.get_running_loop()
            future: asyncio.Future[CallResult | CallError] = loop.create_future()
            self._pending = _Pending(message_id, action, future)
            try:
                text = encode(Call(message_id, action, payload))
                self._trace("out", text)
                try:
                    await self._send(text)
                except Exception as exc:
                    raise ConnectionLost(f"sending {action} failed: {exc}") from exc
                seconds = self._timeout() if timeout is None else timeout
                try:
                    answer = await asyncio.wait_for(future, seconds)
                except TimeoutError:
                    raise CallTimeout(f"{action} not answered within {seconds:g} s") from None
            finally:
                self._pending = None
                if not future.done():
                    future.cancel()
        if isinstance(answer, CallError):
            try:
                code = ErrorCode(answer.code)
            except ValueError:  # not a Part 4 code: keep the text, say what it was
                code = ErrorCode.GENERIC_ERROR
                answer_description = f"[{answer.code}] {answer.description}"
            else:
                answer_description = answer.description
            raise OCPPError(code, answer_description, answer.details)
        self._registry.validate(action, "response", answer.payload)
        return answer.payload

    def connection_lost(self) -> None:
        """Fail the in-flight CALL with :class:`ConnectionLost`; later callers then go on."""
        self._generation += 1
        self._incoming.clear()
        pending = self._pending
        if pending is not None and not pending.future.done():
            pending.future.set_exception(ConnectionLost(f"connection lost during {pending.action}"))

    # -- incoming ---------------------------------------------------------------------------------

    async def on_message(self, text: str | bytes) -> None:
        """Handle one received websocket message.  Never raises."""
        try:
            if self.on_frame is not None:
                raw = text if isinstance(text, str) else text.decode("utf-8", errors="replace")
                self._trace("in", raw)
            try:
                frame = parse(text)
            except FrameError as exc:
                if exc.answerable:
                    self._log.warning("malformed message answered with %s: %s", exc.code, exc)
                    await self._answer_error(exc.message_id, exc, self._generation)
                else:  # a broken CALLRESULT/CALLERROR: never answer it (no error loops)
                    self._log.warning("malformed response dropped: %s", exc)
                return
            if isinstance(frame, Call):
                await self._on_call(frame)
            else:
                self._on_answer(frame)
        except Exception:
            self._log.exception("unexpected error handling an incoming message")

    def _on_answer(self, frame: CallResult | CallError) -> None:
        pending = self._pending
        if pending is None or pending.message_id != frame.message_id or pending.future.done():
            self._log.warning(
                "dropped %s with unknown or stale message id %r",
                type(frame).__name__,
                frame.message_id,
            )
            return
        pending.future.set_result(frame)

    async def _on_call(self, call: Call) -> None:
        generation = self._generation
        if call.message_id in self._incoming:
            # Part 4 section 4.2.3: a CALL with the id of one still being handled is an error.
            error = OCPPError(
                ErrorCode.RPC_FRAMEWORK_ERROR,
                f"a CALL with message id {call.message_id!r} is already being handled",
            )
            await self._answer_error(call.message_id, error, generation)
            return
        try:
            handler = self._accept(call)
        except OCPPError as error:
            self._log.info("answering %s %s with %s", call.action, call.message_id, error)
            await self._answer_error(call.message_id, error, generation)
            return
        self._incoming.add(call.message_id)
        task = asyncio.create_task(self._dispatch(call, handler, generation))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _accept(self, call: Call) -> Handler:
        """The checks before dispatch, in order; raise the OCPPError to answer with."""
        if call.action not in self._registry.actions:
            raise OCPPError(
                ErrorCode.NOT_IMPLEMENTED, f"{call.action!r} is not an OCPP 2.0.1 action"
            )
        handler = self._handlers.get(call.action)
        if handler is None:
            raise OCPPError(ErrorCode.NOT_SUPPORTED, f"{call.action} is not supported")
        self._registry.validate(call.action, "request", call.payload)
        if self.gate is not None:
            refusal = self.gate(call.action)
            if refusal is not None:
                raise refusal
        return handler

    async def _dispatch(self, call: Call, handler: Handler, generation: int) -> None:
        try:
            try:
                result = await handler(call.payload)
                reply = result if isinstance(result, Reply) else Reply(result)
                if not isinstance(reply.payload, dict):
                    raise TypeError(f"handler returned {type(reply.payload).__name__}, not a dict")
                try:
                    self._registry.validate(call.action, "response", reply.payload)
                except OCPPError as invalid:
                    self._log.error(
                        "%s handler returned an invalid response: %s", call.action, invalid
                    )
                    raise OCPPError(
                        ErrorCode.INTERNAL_ERROR, f"invalid {call.action} response produced"
                    ) from invalid
            except OCPPError as error:
                await self._answer_error(call.message_id, error, generation)
                return
            except Exception as exc:
                self._log.exception("%s handler failed", call.action)
                internal = OCPPError(
                    ErrorCode.INTERNAL_ERROR, f"{call.action} failed: {type(exc).__name__}"
                )
                await self._answer_error(call.message_id, internal, generation)
                return
            sent = await self._send_frame(CallResult(call.message_id, reply.payload), generation)
            if sent and reply.then is not None:
                self._spawn(reply.then, call.action)
        finally:
            if generation == self._generation:
                self._incoming.discard(call.message_id)

    def _spawn(self, then: Callable[[], Awaitable[None]], action: str) -> None:
        async def run() -> None:
            try:
                await then()
            except Exception:
                self._log.exception("follow-up of %s failed", action)

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer_error(self, message_id: str, error: OCPPError, generation: int) -> None:
        description = error.description
        if len(description) > DESCRIPTION_MAX_LENGTH:
            description = description[: DESCRIPTION_MAX_LENGTH - 3] + "..."
        frame = CallError(message_id, error.code.value, description, error.details)
        await self._send_frame(frame, generation)

    async def _send_frame(self, frame: CallResult | CallError, generation: int) -> bool:
        """Send an answer; False when it could not be (connection gone, or not encodable)."""
        if generation != self._generation:
            self._log.warning("answer to %s dropped: the connection was lost", frame.message_id)
            return False
        try:
            text = encode(frame)
        except (TypeError, ValueError) as exc:
            if isinstance(frame, CallResult):
                self._log.error("CALLRESULT %s is not JSON-encodable: %s", frame.message_id, exc)
                frame = CallError(
                    frame.message_id, ErrorCode.INTERNAL_ERROR.value, "response not encodable", {}
                )
            else:  # details were not encodable: drop them, keep the error
                frame = CallError(frame.message_id, frame.code, frame.description, {})
            text = encode(frame)
            result_lost = True
        else:
            result_lost = False
        self._trace("out", text)
        try:
            await self._send(text)
        except Exception as exc:
            self._log.warning("could not send answer to %s: %s", frame.message_id, exc)
            return False
        return not result_lost

    def _trace(self, direction: str, text: str) -> None:
        if self.on_frame is not None:
            try:
                self.on_frame(direction, text)
            except Exception:
                self._log.exception("on_frame callback failed")

    async def aclose(self) -> None:
        """Cancel running handler tasks and follow-ups (for shutdown)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
