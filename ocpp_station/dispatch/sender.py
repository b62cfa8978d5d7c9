"""The async sender of the persistent message queue.

:class:`QueueSender` sends the oldest queued message (:class:`ocpp_station.storage.MessageQueue`),
one at a time, strictly in order, and deletes it when the CSMS answered (E04.FR.01, E11.FR.01,
E12.FR.01).  A message the CSMS does not accept (CALLERROR, no answer in time) is retried after
``interval * failures`` seconds and discarded after ``MessageAttemptsTransactionEvent`` failures
(E13.FR.02-04).  A lost connection is not a failure: the sender waits for
:meth:`QueueSender.resume`, and the queued TransactionEvents become ``offline`` (E11.FR.07).
A message that can never be sent (it breaks its own schema, or JSON/UTF-8 cannot carry it:
:class:`~ocpp_station.rpc.errors.InvalidRequest`, nothing went out) is set aside at once into the
store's ``dead_letters``, with one log line, and never holds up the messages behind it.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ocpp_station.clock import Clock
from ocpp_station.rpc.endpoint import ConnectionLost
from ocpp_station.rpc.errors import InvalidRequest, OCPPError
from ocpp_station.storage.health import StorageUnavailable
from ocpp_station.storage.messages import MessageQueue, QueuedMessage

ACK_RETRY = 1.0  # seconds between attempts to delete an answered message while the disk is full


@dataclass(frozen=True)
class RetryPolicy:
    """OCPPCommCtrlr.MessageAttempts / MessageAttemptInterval for TransactionEvent."""

    attempts: int  # transmissions in total before a message is discarded (at least 1)
    interval: float  # seconds

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int):
            raise ValueError(f"RetryPolicy.attempts must be an integer, not {self.attempts!r}")
        if self.attempts < 0:
            raise ValueError(f"RetryPolicy.attempts must be >= 0, not {self.attempts}")
        if not math.isfinite(self.interval) or self.interval < 0:
            raise ValueError(f"RetryPolicy.interval must be >= 0, not {self.interval!r}")

    def delay(self, attempt: int) -> float:
        """Seconds to wait before resending after ``attempt`` failed transmissions: the interval
        times the number of preceding transmissions (E13.FR.03; 3 x 60 s: 60 s, then 120 s)."""
        return self.interval * max(0, attempt)

    def exhausted(self, failures: int) -> bool:
        """True when ``failures`` failed transmissions mean: discard (E13.FR.02/04)."""
        return failures >= max(1, self.attempts)


# ``RpcEndpoint.call`` reports a connection that went away before the answer, and a send that
# failed (the transport's NotConnected included), as ConnectionLost.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (ConnectionLost,)


class QueueSender:
    """Sends the queue's messages through ``call`` (``RpcEndpoint.call``), one at a time.

    ``call`` raising an ``OCPPError`` (CALLERROR, invalid answer), ``CallTimeout`` or any other
    exception counts as a failed transmission; an exception of one of the ``connection_errors``
    types (default :data:`CONNECTION_ERRORS`) is no attempt: it pauses the sender until
    :meth:`resume`.
    """

    def __init__(
        self,
        queue: MessageQueue,
        call: Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]],
        policy: Callable[[], RetryPolicy],
        clock: Clock,
        *,
        on_response: Callable[[QueuedMessage, dict[str, Any]], Awaitable[None] | None]
        | None = None,
        logger: logging.Logger | None = None,
        connection_errors: tuple[type[BaseException], ...] = CONNECTION_ERRORS,
    ) -> None:
        self._queue = queue
        self._call = call
        self._policy = policy
        self._clock = clock
        self._on_response = on_response
        self._log = logger or logging.getLogger("ocpp_station.dispatch.sender")
        self._connection_errors = connection_errors
        self._changed = asyncio.Event()
        self._paused = False
        self._resumes = 0
        self.in_flight: QueuedMessage | None = None
        self.sent = 0  # messages answered since start

    @property
    def paused(self) -> bool:
        return self._paused

    def wake(self) -> None:
        """Something was pushed (or the connection came back): look at the queue again."""
        self._changed.set()

    def pause(self) -> None:
        """The connection is down: stop sending; queued TransactionEvents become offline."""
        self._paused = True
        self._queue.offline = True
        self._mark_offline()
        self._changed.set()

    def _mark_offline(self) -> None:
        try:
            self._queue.mark_offline()
        except StorageUnavailable:
            pass  # the store logged why; the events keep the flag they were queued with

    def resume(self) -> None:
        """The connection is back (and accepted): send again."""
        self._paused = False
        self._queue.offline = False
        self._resumes += 1
        self._changed.set()

    async def run(self) -> None:
        """Send until cancelled."""
        while True:
            if self._paused:
                await self._wait_change()
                continue
            message = self._queue.head()
            if message is None:
                await self._wait_change()
                continue
            await self._send(message)

    async def _wait_change(self) -> None:
        self._changed.clear()
        await self._changed.wait()

    async def _send(self, message: QueuedMessage) -> None:
        resumes = self._resumes
        self.in_flight = message
        try:
            result = await self._call(message.action, message.payload)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if isinstance(exc, InvalidRequest):
                self._queue.set_aside(message.id, f"not valid OCPP: {exc}", self._clock.time())
                return
            if isinstance(exc, self._connection_errors):
                # not an attempt (E13 is about a CSMS that does not accept the message)
                if self._resumes == resumes:  # no resume() since the call began
                    self._paused = True
                    self._queue.offline = True
                    self._mark_offline()
                return
            await self._failed(message, exc)
            return
        finally:
            self.in_flight = None
        while True:  # answered: it must leave the queue, or it would be sent twice
            try:
                self._queue.ack(message.id)
                break
            except StorageUnavailable:
                await self._clock.sleep(ACK_RETRY)
        self.sent += 1
        if self._on_response is not None:
            try:
                done = self._on_response(message, result)
                if inspect.isawaitable(done):
                    await done
            except asyncio.CancelledError:
                raise
            except Exception:
                self._log.exception("on_response failed for %s %d", message.action, message.id)

    async def _failed(self, message: QueuedMessage, exc: Exception) -> None:
        failures = self._queue.record_attempt(message.id)
        policy = self._policy()
        # Only an answer of the CSMS is a CALLERROR; anything else is named by its type.
        kind = "CALLERROR" if isinstance(exc, OCPPError) else type(exc).__name__
        if policy.exhausted(failures):
            self._queue.drop(message.id, f"{kind}: {exc}")
            return
        delay = policy.delay(failures)
        self._log.info(
            "%s %d not accepted (%s: %s); retry %d in %g s",
            message.action,
            message.id,
            kind,
            exc,
            failures,
            delay,
        )
        await self._clock.sleep(delay)
