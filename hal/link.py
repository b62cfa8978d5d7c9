"""Reliable request/acknowledge over a HAL transport (serial frames or CAN), and the controller
base class the ``serial`` and ``can`` backends share.

Every command and event travels with a sequence number and is repeated until the peer answers
with an ACK (or NACK) of that number; one reliable message per direction is in flight at a time
(stop-and-wait).  A receiver remembers the last reliable message it executed (sequence number and
bytes): a repeat of it is acknowledged again without being executed again.  The station side
sends PINGs; when nothing has arrived for ``liveness_timeout`` it reports
``FaultChanged(0, CommunicationLost, active=True)``, and when the MCU answers again it reports the
fault cleared and re-reads the MCU's state (STATE_REQUEST).  See ``hal/PROTOCOL.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from hal.codec import (
    UNACKNOWLEDGED_TYPES,
    Ack,
    AllowPower,
    CodecError,
    Enable,
    Lock,
    Message,
    Nack,
    NackCode,
    Ping,
    Pong,
    Reset,
    SetCurrentLimit,
    StateEnd,
    StateRequest,
    UnknownMessageType,
    decode,
    encode,
    is_reliable,
)
from hal.types import (
    COMMUNICATION_LOST,
    ChargeController,
    ContactorChanged,
    FaultChanged,
    HalError,
    HalEvent,
    IdTokenPresented,
    LockChanged,
    MeterReading,
    PilotStateChanged,
    PlugChanged,
)
from ocpp_station.clock import Clock, SystemClock

log = logging.getLogger("hal.link")

HAL_EVENTS = (
    PilotStateChanged,
    PlugChanged,
    IdTokenPresented,
    MeterReading,
    ContactorChanged,
    FaultChanged,
    LockChanged,
)

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


async def wait_for_future(fut: asyncio.Future[Any], clock: Clock, timeout: float) -> bool:
    """Wait until ``fut`` is done or ``timeout`` seconds of ``clock`` passed; True if done."""
    sleeper: asyncio.Future[Any] = asyncio.ensure_future(clock.sleep(timeout))
    try:
        await asyncio.wait({fut, sleeper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()
    return fut.done()


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
    """The peer answered NACK; ``code`` is a :class:`hal.codec.NackCode` value."""

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
    :class:`Refuse` to NACK it); ``ping=True`` (station side) enables PINGs and liveness."""

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
        self.on_lost = on_lost
        self.on_restored = on_restored
        self.stats: dict[str, int] = dict.fromkeys(LINK_STATS, 0)
        self.alive = True
        self.muted = False  # tests: behave like a dead peer (receive nothing, send nothing)
        self.last_rx = 0.0
        self._seq = 0
        self._ping_seq = 0
        self._send_lock = asyncio.Lock()
        self._pending: tuple[int, asyncio.Future[Message]] | None = None
        self._last_rx_key: tuple[int, bytes] | None = None
        self._last_reply: Message = Ack()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def all_stats(self) -> dict[str, int]:
        return {**self.transport.stats, **self.stats}

    def start(self) -> None:
        self.last_rx = self.clock.time()
        self.transport.start(self._deliver)
        if self.ping:
            self._task = asyncio.get_running_loop().create_task(self._ping_loop())

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._pending is not None and not self._pending[1].done():
            self._pending[1].cancel()
        self.transport.close()

    def declare_lost(self) -> None:
        """Mark the peer as silent (once) and tell ``on_lost``."""
        if self.alive:
            self.alive = False
            self.stats["comm_lost"] += 1
            if self.on_lost is not None:
                self.on_lost()

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
        self.last_rx = self.clock.time()
        if not self.alive:
            self.alive = True
            if self.on_restored is not None:
                self.on_restored()
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

    async def _ping_loop(self) -> None:
        while True:
            await self.clock.sleep(self.options.ping_interval)
            self._ping_seq = (self._ping_seq + 1) & 0xFF
            self.stats["pings_sent"] += 1
            self._send(self._ping_seq, encode(Ping()))
            if self.clock.time() - self.last_rx > self.options.liveness_timeout:
                self.declare_lost()


def normalize_evses(evses: Any) -> dict[int, tuple[int, ...]] | None:
    """``None``, a mapping ``{evse: [connectors]}``, a count N (EVSEs 1..N with connector 1) or
    a list of ``{"id", "connectors"}`` tables (the station config's ``[[evse]]``)."""
    if evses is None:
        return None
    if isinstance(evses, int) and not isinstance(evses, bool):
        if evses < 1:
            raise ValueError(f"evses must be >= 1, got {evses}")
        return {i: (1,) for i in range(1, evses + 1)}
    if isinstance(evses, Mapping):
        items = list(evses.items())
    elif isinstance(evses, list | tuple) and all(isinstance(e, Mapping) for e in evses):
        items = [(e.get("id"), e.get("connectors", [1])) for e in evses]
    else:
        raise ValueError(f"evses must be a mapping of evse id to connector ids, got {evses!r}")
    result: dict[int, tuple[int, ...]] = {}
    for evse, connectors in items:
        if isinstance(evse, bool) or not isinstance(evse, int) or not 1 <= evse <= 255:
            raise ValueError(f"evse id must be an integer 1..255, got {evse!r}")
        if not isinstance(connectors, list | tuple) or not all(
            isinstance(c, int) and not isinstance(c, bool) and 1 <= c <= 255 for c in connectors
        ):
            raise ValueError(f"connectors of evse {evse} must be integers 1..255: {connectors!r}")
        result[evse] = tuple(connectors)
    return result


class WireController(ChargeController):
    """A :class:`ChargeController` talking ``hal/PROTOCOL.md`` over a :class:`Transport`."""

    name = "wire"

    def __init__(self, evses: Any, options: LinkOptions) -> None:
        self.evses = normalize_evses(evses)
        self.options = options
        self.link: Link | None = None
        self._queue: asyncio.Queue[HalEvent | None] = asyncio.Queue()
        self._state_end: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    def _connect(self) -> Transport:
        """Open the port or bus (raise :class:`HalError` when that fails)."""
        raise NotImplementedError

    @property
    def stats(self) -> dict[str, int]:
        return self.link.all_stats() if self.link is not None else {}

    @property
    def connected(self) -> bool:
        return self.link is not None and self.link.alive

    async def open(self) -> None:
        if self.link is not None or self._closed:
            raise HalError(f"the {self.name} controller is already open or closed")
        self.link = Link(
            self._connect(),
            self._on_message,
            self.options,
            ping=True,
            on_lost=self._lost,
            on_restored=self._restored,
        )
        self.link.start()
        if not await self._resync():
            self.link.declare_lost()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        if self.link is not None:
            await self.link.close()
        self._queue.put_nowait(None)

    async def events(self) -> AsyncIterator[HalEvent]:
        while True:
            event = await self._queue.get()
            if event is None:
                return
            yield event

    async def enable(self, evse: int, enabled: bool) -> None:
        self._check(evse)
        await self._command(Enable(evse, bool(enabled)))

    async def allow_power(self, evse: int, allowed: bool) -> None:
        self._check(evse)
        await self._command(AllowPower(evse, bool(allowed)))

    async def set_current_limit(self, evse: int, amps: float, phases: int = 3) -> None:
        self._check(evse)
        if isinstance(amps, bool) or not isinstance(amps, int | float) or not amps >= 0:
            raise HalError(f"current limit must be a number >= 0 A, got {amps!r}")
        if phases not in (1, 2, 3):
            raise HalError(f"phases must be 1, 2 or 3, got {phases!r}")
        await self._command(SetCurrentLimit(evse, float(amps), phases))

    async def lock(self, evse: int, connector: int, locked: bool) -> None:
        self._check(evse, connector)
        await self._command(Lock(evse, connector, bool(locked)))

    async def reset(self) -> None:
        await self._command(Reset())

    # -- internals --------------------------------------------------------------------------

    def _check(self, evse: int, connector: int | None = None) -> None:
        if self.evses is None:
            return
        if evse not in self.evses:
            raise HalError(f"unknown evse {evse!r}; this controller has {sorted(self.evses)}")
        if connector is not None and connector not in self.evses[evse]:
            raise HalError(
                f"unknown connector {connector!r} on evse {evse}; it has {list(self.evses[evse])}"
            )

    async def _command(self, msg: Message) -> None:
        if self.link is None or self._closed:
            raise HalError(f"the {self.name} controller is not open")
        await self.link.request(msg)

    def _on_message(self, msg: Message) -> None:
        if isinstance(msg, StateEnd):
            if self._state_end is not None and not self._state_end.done():
                self._state_end.set_result(None)
            return
        if not isinstance(msg, HAL_EVENTS):
            raise Refuse(NackCode.UNEXPECTED, f"the station takes events only, not {msg!r}")
        self._queue.put_nowait(msg)

    async def _resync(self) -> bool:
        """STATE_REQUEST, then wait for the state report to end; False if not acknowledged."""
        assert self.link is not None
        self._state_end = asyncio.get_running_loop().create_future()
        try:
            await self.link.request(StateRequest())
        except HalError as exc:
            log.warning("%s controller: state request failed: %s", self.name, exc)
            return False
        if not await wait_for_future(
            self._state_end, self.options.clock, self.options.open_timeout
        ):
            log.warning("%s controller: state report incomplete after state request", self.name)
        return True

    def _lost(self) -> None:
        log.warning("%s controller stopped answering", self.name)
        self._queue.put_nowait(FaultChanged(0, COMMUNICATION_LOST, True))

    def _restored(self) -> None:
        log.info("%s controller answers again; re-reading its state", self.name)
        self._queue.put_nowait(FaultChanged(0, COMMUNICATION_LOST, False))
        task = asyncio.get_running_loop().create_task(self._resync())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
