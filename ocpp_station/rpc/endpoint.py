"""The OCPP-J RPC endpoint: one per station, the asyncio loop around an :class:`RpcConnection`.

The rules (one CALL in flight, FIFO, message-id matching, the CALLERROR answers, deadlines) are the
sans-I/O :class:`~ocpp_station.rpc.connection.RpcConnection`'s; this class only carries out what
it returns: it sends text through the ``send`` coroutine it is given (it knows nothing about
websockets), runs each handler in a task of its own, resolves the waiting :meth:`RpcEndpoint.call`
coroutines and sleeps on the injected clock until the next deadline, so ``MessageTimeout`` runs on
the same time as every other timer.  :meth:`RpcEndpoint.aclose` ends every task it started.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from ocpp_station.clock import Clock, SystemClock, Wake, sleep_or_wake
from ocpp_station.logutil import RateLimitedLog
from ocpp_station.redact import redact_frame
from ocpp_station.rpc.connection import (
    CallDone,
    CallFailed,
    Dispatch,
    Note,
    Output,
    RpcConnection,
    SendAnswer,
    SendCall,
)
from ocpp_station.rpc.errors import CallTimeout, ConnectionLost, ErrorCode, OCPPError

__all__ = ["CallTimeout", "ConnectionLost", "Handler", "Reply", "RpcEndpoint"]


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


class RpcEndpoint:
    def __init__(
        self,
        send: Callable[[str], Awaitable[None]],
        *,
        timeout: Callable[[], float],
        clock: Clock | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self._send = send
        self._clock: Clock = clock or SystemClock()
        self._log = logger or logging.getLogger("ocpp_station.rpc")
        self._conn = RpcConnection(timeout=timeout)  # OCPPCommCtrlr.MessageTimeout, per call
        self._handlers: dict[str, Handler] = {}
        self._calls: dict[str, asyncio.Future[dict[str, Any]]] = {}  # by message id
        self._tasks: set[asyncio.Task[Any]] = set()  # handlers, follow-ups, CALL sends
        self._timer: asyncio.Task[None] | None = None
        self._sleeping_until: float | None = None  # the deadline the timer sleeps for
        self._wake = Wake()  # the deadline changed
        self.on_frame: Callable[[str, str], None] | None = None
        self._notes = RateLimitedLog(self._log, self._clock.time)

    @property
    def gate(self) -> Callable[[str], OCPPError | None] | None:
        """Checked before dispatching a valid CALL: return an OCPPError to answer with instead."""
        return self._conn.gate

    @gate.setter
    def gate(self, gate: Callable[[str], OCPPError | None] | None) -> None:
        self._conn.gate = gate

    def register(self, action: str, handler: Handler) -> None:
        self._conn.support(action)
        self._handlers[action] = handler

    # -- outgoing ---------------------------------------------------------------------------------

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a CALL and return the CALLRESULT payload.

        Raises :class:`OCPPError` for an invalid request (nothing is sent), a CALLERROR answer or
        an invalid response; :class:`CallTimeout`; :class:`ConnectionLost`.
        """
        message_id, outputs = self._conn.call(action, payload, self._clock.time())
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._calls[message_id] = future
        try:
            self._carry_out(outputs)
            return await future
        finally:
            del self._calls[message_id]
            # a no-op once answered; when the caller was cancelled, the next call goes on
            self._carry_out(self._conn.cancel(message_id, self._clock.time()))

    async def settled(self) -> None:
        """Wait until every CALL made so far has its answer, failed or timed out (at the latest
        MessageTimeout after it went out): before closing the connection on purpose, so neither
        side loses a message it is still waiting for."""
        pending = [future for future in self._calls.values() if not future.done()]
        if pending:
            await asyncio.wait(pending)

    async def _send_call(self, out: SendCall) -> None:
        self._trace("out", out.text)
        try:
            await self._send(out.text)
        except Exception as exc:
            self._carry_out(self._conn.send_failed(out.message_id, str(exc), self._clock.time()))

    async def _expire_calls(self) -> None:
        """Sleep on the clock until the CALL in flight is due, while one is."""
        while (deadline := self._conn.next_deadline()) is not None:
            self._wake.clear()
            self._sleeping_until = deadline
            await sleep_or_wake(self._clock, deadline - self._clock.time(), self._wake)
            self._carry_out(self._conn.expire(self._clock.time()))
        self._sleeping_until = None

    def _deadline_set(self, deadline: float) -> None:
        if self._timer is None or self._timer.done():
            self._timer = asyncio.create_task(self._expire_calls())
        elif self._sleeping_until is None or deadline < self._sleeping_until:
            self._wake.set()  # a later deadline needs no wake-up: it is seen on the next round

    def connection_lost(self) -> None:
        """Fail the in-flight CALL with :class:`ConnectionLost`; later callers then go on."""
        self._carry_out(self._conn.connection_lost(self._clock.time()))

    # -- incoming ---------------------------------------------------------------------------------

    async def on_message(self, text: str | bytes) -> None:
        """Handle one received websocket message.  Never raises."""
        try:
            if self.on_frame is not None:
                raw = text if isinstance(text, str) else text.decode("utf-8", errors="replace")
                self._trace("in", raw)
            await self._send_answers(self._carry_out(self._conn.receive(text, self._clock.time())))
        except Exception:
            self._log.exception("unexpected error handling an incoming message")

    async def _run_handler(self, dispatch: Dispatch) -> None:
        action = dispatch.call.action
        reply: Reply | None = None
        try:
            result = await self._handlers[action](dispatch.call.payload)
        except OCPPError as error:
            outputs = self._conn.respond_error(dispatch, error)
        except Exception as exc:
            self._log.exception("%s handler failed", action)
            internal = OCPPError(ErrorCode.INTERNAL_ERROR, f"{action} failed: {type(exc).__name__}")
            outputs = self._conn.respond_error(dispatch, internal)
        else:
            reply = result if isinstance(result, Reply) else Reply(result)
            outputs = self._conn.respond(dispatch, reply.payload)
        sent = await self._send_answers(self._carry_out(outputs))
        if sent and reply is not None and reply.then is not None:
            self._spawn(self._follow_up(reply.then, action))

    async def _follow_up(self, then: Callable[[], Awaitable[None]], action: str) -> None:
        try:
            await then()
        except Exception:
            self._log.exception("follow-up of %s failed", action)

    async def _send_answers(self, answers: Iterable[SendAnswer]) -> bool:
        """Send the answers; True when a CALLRESULT went out."""
        result_sent = False
        for answer in answers:
            self._trace("out", answer.text)
            try:
                await self._send(answer.text)
            except Exception as exc:
                self._notes.warning(
                    "answer not sent", "could not send answer to %s: %s", answer.message_id, exc
                )
            else:
                result_sent = result_sent or answer.result
        return result_sent

    # -- carrying out -----------------------------------------------------------------------------

    def _carry_out(self, outputs: list[Output]) -> list[SendAnswer]:
        """Carry out the outputs at once, starting a task for each CALL to send and each handler
        to run; return the answers, which the caller sends (in order, after the handler)."""
        answers: list[SendAnswer] = []
        for out in outputs:
            if isinstance(out, SendAnswer):
                answers.append(out)
            elif isinstance(out, SendCall):
                self._deadline_set(out.deadline)
                # a task of its own, not the caller's: a send held up by a stalled peer must
                # not keep the caller from its CallTimeout at MessageTimeout
                self._spawn(self._send_call(out))
            elif isinstance(out, Dispatch):
                self._spawn(self._run_handler(out))
            elif isinstance(out, CallDone | CallFailed):
                future = self._calls.get(out.message_id)
                if future is None or future.done():
                    continue  # the caller gave up
                if isinstance(out, CallDone):
                    future.set_result(out.payload)
                else:
                    future.set_exception(out.error)
            elif isinstance(out, Note):
                # A peer can cause these with every frame: a few per kind per minute, then a
                # count (a misbehaving CSMS must not fill the charger's flash with log).
                self._notes.log(out.level, out.kind or out.message[:60], "%s", out.message)
        return answers

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _trace(self, direction: str, text: str) -> None:
        """Show a frame to ``on_frame`` (a trace, usually logged): PIN codes masked (C04.FR.04)."""
        if self.on_frame is not None:
            try:
                self.on_frame(direction, redact_frame(text))
            except Exception:
                self._log.exception("on_frame callback failed")

    async def aclose(self) -> None:
        """Close for good: fail every waiting call with :class:`ConnectionLost`, cancel the
        handler tasks, follow-ups and CALL sends still running and wait until they ended.  Safe
        to call twice, and from a handler or follow-up (which is then not cancelled: it is the
        caller)."""
        self._carry_out(self._conn.close())  # fails calls only: nothing to send
        current = asyncio.current_task()
        running = [task for task in (*self._tasks, self._timer) if task is not None]
        tasks = [task for task in running if task is not current and not task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
