"""The ``can`` HAL backend: ``hal/PROTOCOL.md`` over a CAN bus with python-can (any interface).

``hal.open("can", interface="socketcan", channel="can0", bitrate=500000, evses={1: [1]},
node=0, id_base=0x400, bus_options={...}, **link options)``; ``interface="virtual"`` in tests,
``"slcan"`` for a serial CAN adapter.  Frames are received through a :class:`can.Notifier` bound
to the event loop.  :class:`CanTransport` also serves the MCU simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import can

from hal.canbus import CanAddressing, CanReceiver, encode_can
from hal.framing import TO_MCU, TO_STATION
from hal.link import Deliver, LinkOptions, Transport
from hal.types import HalError
from hal.wire import WireController

log = logging.getLogger("hal.can")


class CanTransport:
    """Messages of one side (``tx_direction``) of one node, as CAN frames on ``bus``."""

    def __init__(self, bus: can.BusABC, tx_direction: int, addressing: CanAddressing) -> None:
        if tx_direction not in (TO_MCU, TO_STATION):
            raise ValueError(f"tx_direction must be {TO_MCU} or {TO_STATION}, got {tx_direction}")
        self.bus = bus
        self.tx_direction = tx_direction
        self.addressing = addressing
        self.receiver = CanReceiver(1 - tx_direction, addressing)
        self._counters = {"tx_frames": 0, "tx_errors": 0, "rx_frames": 0}
        self._deliver: Deliver | None = None
        self._notifier: can.Notifier | None = None

    @property
    def stats(self) -> dict[str, int]:
        return {**self.receiver.stats, **self._counters}

    def start(self, deliver: Deliver) -> None:
        self._deliver = deliver
        low = self.addressing.id_base + self.addressing.node * 0x80
        with contextlib.suppress(Exception):  # a hint only: software filtering follows anyway
            self.bus.set_filters([{"can_id": low, "can_mask": 0x780, "extended": False}])
        self._notifier = can.Notifier(
            self.bus, [self._on_frame], timeout=0.05, loop=asyncio.get_running_loop()
        )

    def _on_frame(self, msg: can.Message) -> None:
        # Called in the event loop's thread (the Notifier was given the loop).
        if msg.is_extended_id or msg.is_remote_frame or msg.is_error_frame:
            self.receiver.stats["foreign"] += 1
            return
        self._counters["rx_frames"] += 1
        done = self.receiver.feed(msg.arbitration_id, bytes(msg.data))
        if done is not None and self._deliver is not None:
            self._deliver(*done)

    def send(self, seq: int, message: bytes) -> None:
        for can_id, data in encode_can(seq, message, self.tx_direction, self.addressing):
            frame = can.Message(arbitration_id=can_id, data=data, is_extended_id=False)
            try:
                self.bus.send(frame, timeout=0.05)
            except (can.CanError, OSError) as exc:
                self._counters["tx_errors"] += 1
                log.debug("CAN send failed: %s", exc)
                return
            self._counters["tx_frames"] += 1

    def close(self) -> None:
        if self._notifier is not None:
            self._notifier.stop(timeout=1.0)
            self._notifier = None


class CanBackend(WireController):
    """The station's end of a CAN bus to the charge-controller MCU."""

    name = "can"
    _OWN = ("node", "id_base", "bus_options")

    def __init__(
        self,
        interface: str,
        channel: str,
        bitrate: int | None = None,
        evses: Any = None,
        **options: Any,
    ) -> None:
        if not isinstance(interface, str) or not interface:
            raise ValueError(f"can backend: interface must be a python-can name, got {interface!r}")
        if not isinstance(channel, str | int) or channel == "":
            raise ValueError(f"can backend: channel must be given, got {channel!r}")
        if bitrate is not None and (
            isinstance(bitrate, bool) or not isinstance(bitrate, int) or bitrate <= 0
        ):
            raise ValueError(f"can backend: bitrate must be a positive integer, got {bitrate!r}")
        link = LinkOptions.parse(options, who="the can HAL backend", extra=self._OWN)
        super().__init__(evses, link)
        self.addressing = CanAddressing(
            id_base=options.get("id_base", 0x400), node=options.get("node", 0)
        )
        bus_options = options.get("bus_options", {})
        if not isinstance(bus_options, dict):
            raise ValueError(f"can backend: bus_options must be a table, got {bus_options!r}")
        self.interface = interface
        self.channel = channel
        self.bitrate = bitrate
        self.bus_options: dict[str, Any] = dict(bus_options)
        self.bus: can.BusABC | None = None

    def _connect(self) -> Transport:
        kwargs = dict(self.bus_options)
        if self.bitrate is not None:
            kwargs["bitrate"] = self.bitrate
        try:
            self.bus = can.Bus(interface=self.interface, channel=self.channel, **kwargs)
        except Exception as exc:  # python-can raises many kinds (CanError, OSError, ImportError)
            raise HalError(
                f"cannot open CAN interface {self.interface!r} channel {self.channel!r}: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        return CanTransport(self.bus, TO_MCU, self.addressing)

    async def close(self) -> None:
        await super().close()
        if self.bus is not None:
            with contextlib.suppress(Exception):
                self.bus.shutdown()
            self.bus = None
