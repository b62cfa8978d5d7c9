"""The dispatcher: every station→CSMS message of every block goes through here.

``call`` sends now and raises when the message may not go or fails; ``send`` is the best-effort
form (it routes the message as :func:`~ocpp_station.dispatch.policy.route` says, logs what went
wrong once, and never raises); ``enqueue`` and ``commit`` write to the persistent queue.  The
policy itself is the pure :mod:`ocpp_station.dispatch.policy`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from ocpp_station.dispatch.policy import LinkState, Route, may_send_now, route
from ocpp_station.rpc.endpoint import CallTimeout, ConnectionLost
from ocpp_station.rpc.errors import OCPPError


class NotReady(Exception):
    """The station may not send this message now (offline, or not registered)."""


class Caller(Protocol):
    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]: ...


class MessageLog(Protocol):
    """The persistent queue facet of the station store, as the dispatcher uses it."""

    def push_batch(
        self,
        messages: Sequence[tuple[str, dict[str, Any]]],
        now: float,
        state_key: str | None = None,
        state: dict[str, Any] | None = None,
        *,
        synced: bool = True,
    ) -> list[int]: ...


class Waker(Protocol):
    def wake(self) -> None: ...


class Dispatcher:
    def __init__(
        self,
        rpc: Caller,
        messages: MessageLog,
        sender: Waker,
        link: LinkState,
        *,
        now: Callable[[], float],
        queue_all: Callable[[], bool],
        logger: logging.Logger,
    ) -> None:
        self._rpc = rpc
        self._messages = messages
        self._sender = sender
        self.link = link
        self._now = now
        self._queue_all = queue_all
        self._log = logger

    async def call(
        self,
        action: str,
        payload: dict[str, Any],
        *,
        triggered: bool = False,
        reply: bool = False,
    ) -> dict[str, Any]:
        """Send a CALL now and return the CSMS's answer.  Raises :class:`NotReady` when the
        registration state does not allow it, ``ConnectionLost``, ``CallTimeout`` or
        ``OCPPError``."""
        if not may_send_now(action, self.link, triggered=triggered, reply=reply):
            state = "not connected" if not self.link.connected else self.link.registration
            raise NotReady(f"{action}: {state}")
        return await self._rpc.call(action, payload)

    async def send(
        self,
        action: str,
        payload: dict[str, Any],
        *,
        triggered: bool = False,
        reply: bool = False,
        keep: bool = False,
    ) -> dict[str, Any] | None:
        """Send as the policy says; the answer, or None when the message was queued, was not
        allowed now, or failed (logged here, once).  ``keep``: queue it rather than drop it when
        it may not go now."""
        how = route(
            action,
            self.link,
            queue_all=self._queue_all(),
            triggered=triggered,
            reply=reply,
            keep=keep,
        )
        if how is Route.QUEUE:
            self.enqueue(action, payload)
            return None
        if how is Route.NOT_NOW:
            state = "not connected" if not self.link.connected else self.link.registration
            self._log.info("%s not sent: %s", action, state)
            return None
        try:
            return await self._rpc.call(action, payload)
        except ConnectionLost:
            self._log.info("%s not delivered: the connection was lost", action)
        except (CallTimeout, OCPPError) as exc:
            self._log.warning("%s not delivered: %s", action, exc)
        return None

    def enqueue(self, action: str, payload: dict[str, Any], *, synced: bool = True) -> None:
        """Store in the persistent queue: delivered in order, kept over a reconnect or a power
        loss, retried as ``MessageAttempts``/``MessageAttemptInterval`` say (``synced``: see
        :meth:`~ocpp_station.storage.messages.MessageQueue.push_batch`)."""
        self.commit([(action, payload)], synced=synced)

    def commit(
        self,
        messages: Sequence[tuple[str, dict[str, Any]]],
        state_key: str | None = None,
        state: dict[str, Any] | None = None,
        *,
        synced: bool = True,
    ) -> None:
        """Queue ``messages`` and save ``state`` in ONE store transaction (a TransactionEvent and
        the engine state that produced it: a power loss keeps both or neither)."""
        self._messages.push_batch(
            messages, self._now(), state_key=state_key, state=state, synced=synced
        )
        if messages:
            self._sender.wake()
