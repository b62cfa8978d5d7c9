"""Reliable request/acknowledge over a HAL transport (serial frames or CAN): one end of the link.

Every command and event travels with a sequence number and is repeated until the peer answers
with an ACK (or NACK) of that number; one reliable message per direction is in flight at a time
(stop-and-wait).  A receiver remembers the last reliable message it executed (sequence number and
bytes): a repeat of it is acknowledged again without being executed again.  PINGs and silence
detection are :mod:`hal.liveness`; the station's controller on top of a link is
:class:`hal.wire.WireController`, the MCU's is :class:`hal.mcu.McuSimulator`.  See
``hal/PROTOCOL.md`` section 3.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from hal.clock import Clock, SystemClock, wait_for_future
from hal.codec import CodecError, UnknownMessageType, decode, encode
from hal.liveness import Liveness
from hal.messages import (
    UNACKNOWLEDGED_TYPES,
    Ack,
    Message,
    Nack,
    NackCode,
    Ping,
    Pong,
    is_reliable,
)
from hal.types import HalError

log = logging.getLogger("hal.link")

Deliver = Callable[[int, bytes], None]

LINK_STATS = (
    "tx_messages",  # reliable messages sent (first attempts)
    "retransmissions",  # repeated attempts after an ACK timeout
    "send_failures",  # reliable messages never acknowledged
    "rx_messages",  # reliable messages received and executed
    "duplicates",  # repeats received: acknowledged again, not executed
    "decode_errors",  # messages with a valid frame but a malformed body (NACKed)
    "unknown_types",  # messages of an unknown type (NACKed)
    "nacks_sent",
    "nacks_received",
    "stray_replies",  # ACK/NACK/PONG matching nothing in flight (late, duplicated)
    "pings_sent",
    "comm_lost",  # times the peer was declared silent
)


class Transport(Protocol):
    """Moves ``(sequence number, message bytes)`` between the two ends (serial or CAN)."""

    @property
    def stats(self) -> dict[str, int]: ...

    def start(self, deliver: Deliver) -> None: ...

    def send(self, seq: int, message: bytes) -> None: ...

    def close(self) -> None: ...


class NoAcknowledge(HalError):
    """The peer did not acknowledge a message after every attempt."""


class CommandRejected(HalError):
    """The peer answered NACK; ``code`` is a :class:`hal.messages.NackCode` value."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class Refuse(Exception):
    """Raised by a message handler: the message is answered with NACK ``code``."""

    def __init__(self, code: NackCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def _nack_name(code: int) -> str:
    try:
        return NackCode(code).name
    except ValueError:
        return f"code {code}"


@dataclass(slots=True)
class LinkOptions:
    ack_timeout: float = 0.1  # seconds to wait for an ACK before repeating
    attempts: int = 3  # sends of one message before giving up
    ping_interval: float = 0.5  # seconds between PINGs (station side)
    liveness_timeout: float = 1.5  # silence after which the peer counts as lost
    open_timeout: float = 2.0  # wait for the state report (STATE_END) after STATE_REQUEST
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def parse(
        cls, options: Mapping[str, Any], *, who: str, extra: Collection[str] = ()
    ) -> LinkOptions:
        """Options from a config table; unknown names and bad values raise a precise
        ``ValueError``.  Names in ``extra`` belong to the caller and are ignored here."""
        known = ("ack_timeout", "attempts", "ping_interval", "liveness_timeout", "open_timeout")
        unknown = sorted(set(options) - set(known) - set(extra) - {"clock"})
        if unknown:
            names = ", ".join(sorted([*known, *extra]))
            raise ValueError(f"unknown option(s) {', '.join(unknown)} for {who}; known: {names}")
        result = cls()
        for name in known:
            if name not in options:
                continue
            value = options[name]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{who} option {name} must be a number, got {value!r}")
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{who} option {name} must be > 0, got {value!r}")
            if name == "attempts" and not isinstance(value, int):
                raise ValueError(f"{who} option attempts must be an integer, got {value!r}")
            setattr(result, name, value)
        if "clock" in options:
            result.clock = options["clock"]
        return result


class Link:
    """One end of the reliable link.  ``handler`` executes a received command or event (raising
    :class:`Refuse` to NACK it); ``ping=True`` (station side) sends PINGs and watches the peer's
    :attr:`liveness`, calling ``on_lost`` / ``on_restored``."""

    def __init__(
        self,
        transport: Transport,
        handler: Callable[[Message], None],
        options: LinkOptions,
        *,
        ping: bool = False,
        on_lost: Callable[[], None] | None = None,
        on_restored: Callable[[], None] | None = None,
    ) -> None:
        self.transport = transport
        self.handler = handler
        self.options = options
        self.clock = options.clock
        self.ping = ping
        self.stats: dict[str, int] = dict.fromkeys(LINK_STATS, 0)
        self.liveness = Liveness(
            self.clock,
            ping_interval=options.ping_interval,
            timeout=options.liveness_timeout,
            send_ping=lambda seq: self._send(seq, encode(Ping())),
            stats=self.stats,
            on_lost=on_lost,
            on_restored=on_restored,
        )
        self.muted = False  # tests: behave like a dead peer (receive nothing, send nothing)
        self._seq = 0
        self._send_lock = asyncio.Lock()
        self._pending: tuple[int, asyncio.Future[Message]] | None = None
        self._last_rx_key: tuple[int, bytes] | None = None
        self._last_reply: Message = Ack()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def all_stats(self) -> dict[str, int]:
        return {**self.transport.stats, **self.stats}

    def start(self) -> None:
        self.liveness.last_rx = self.clock.time()
        self.transport.start(self._deliver)
        if self.ping:
            self._task = asyncio.get_running_loop().create_task(self.liveness.run())

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._pending is not None and not self._pending[1].done():
            self._pending[1].cancel()
        self.transport.close()

    async def request(self, msg: Message) -> int:
        """Send ``msg`` reliably; return the ACK result.  Raises :class:`CommandRejected` on a
        NACK and :class:`NoAcknowledge` when no answer came after every attempt."""
        try:
            data = encode(msg)
        except CodecError as exc:
            raise HalError(f"cannot send {msg!r}: {exc}") from None
        async with self._send_lock:
            if self._closed:
                raise HalError("the controller link is closed")
            seq = self._seq
            self._seq = (seq + 1) & 0xFF
            self.stats["tx_messages"] += 1
            loop = asyncio.get_running_loop()
            try:
                for attempt in range(self.options.attempts):
                    fut: asyncio.Future[Message] = loop.create_future()
                    self._pending = (seq, fut)
                    if attempt:
                        self.stats["retransmissions"] += 1
                    self._send(seq, data)
                    reply = await self._wait(fut, self.options.ack_timeout)
                    if isinstance(reply, Ack):
                        return reply.result
                    if isinstance(reply, Nack):
                        self.stats["nacks_received"] += 1
                        raise CommandRejected(
                            f"controller rejected {msg!r}: {_nack_name(reply.code)}", reply.code
                        )
            finally:
                self._pending = None
            self.stats["send_failures"] += 1
            raise NoAcknowledge(
                f"no acknowledgement for {msg!r} after {self.options.attempts} attempt(s) "
                f"of {self.options.ack_timeout:g} s"
            )

    async def _wait(self, fut: asyncio.Future[Message], timeout: float) -> Message | None:
        await wait_for_future(fut, self.clock, timeout)
        return fut.result() if fut.done() and not fut.cancelled() else None

    def _send(self, seq: int, data: bytes) -> None:
        if not self.muted and not self._closed:
            self.transport.send(seq, data)

    def _reply(self, seq: int, msg: Message) -> None:
        if isinstance(msg, Nack):
            self.stats["nacks_sent"] += 1
        self._send(seq, encode(msg))

    def _deliver(self, seq: int, data: bytes) -> None:
        """Called by the transport for every frame that passed its checks."""
        if self.muted or self._closed:
            return
        self.liveness.heard()
        try:
            msg = decode(data)
        except UnknownMessageType:
            self.stats["unknown_types"] += 1
            self._reply(seq, Nack(NackCode.UNKNOWN_TYPE))
            return
        except CodecError as exc:
            self.stats["decode_errors"] += 1
            log.debug("undecodable message %s: %s", data.hex(), exc)
            if data[:1] and data[0] not in UNACKNOWLEDGED_TYPES:  # never answer an answer
                self._reply(seq, Nack(NackCode.MALFORMED))
            return
        if isinstance(msg, Pong):
            return
        if isinstance(msg, Ack | Nack):
            pending = self._pending
            if pending is not None and pending[0] == seq and not pending[1].done():
                pending[1].set_result(msg)
            else:
                self.stats["stray_replies"] += 1
            return
        if isinstance(msg, Ping):
            self._send(seq, encode(Pong()))
            return
        assert is_reliable(msg)
        key = (seq, bytes(data))
        if key == self._last_rx_key:
            self.stats["duplicates"] += 1
            reply = self._last_reply
            self._reply(seq, Ack(1) if isinstance(reply, Ack) else reply)
            return
        try:
            self.handler(msg)
            reply = Ack()
        except Refuse as exc:
            log.info("refused %r: %s", msg, exc)
            reply = Nack(exc.code)
        except Exception:
            log.exception("handler failed on %r", msg)
            reply = Nack(NackCode.REFUSED)
        else:
            self.stats["rx_messages"] += 1
        self._last_rx_key, self._last_reply = key, reply
        self._reply(seq, reply)
