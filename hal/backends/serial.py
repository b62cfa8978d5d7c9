"""The ``serial`` HAL backend: ``hal/PROTOCOL.md`` over a UART (or a pseudo-terminal) with pyserial.

``hal.open("serial", port="/dev/ttyS1", baudrate=115200, evses={1: [1]}, **link options)``.
The port is opened by pyserial (raw, 8N1) and then read and written without blocking through the
event loop (``add_reader``/``add_writer`` on its file descriptor).  When the port fails (a USB
adapter unplugged, the far end of a pseudo-terminal closed) it is reopened every second.
:class:`SerialTransport` also serves the MCU simulator on any file descriptor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from typing import Any

import serial

from hal.framing import TO_MCU, TO_STATION, Deframer, encode_frame
from hal.link import Deliver, LinkOptions, Transport
from hal.types import HalError
from hal.wire import WireController

log = logging.getLogger("hal.serial")

REOPEN_INTERVAL = 1.0


class SerialTransport:
    """Frames of one side (``tx_direction``) written to, and read from, a non-blocking fd."""

    def __init__(
        self,
        fd: int | None,
        tx_direction: int,
        *,
        on_failure: Callable[[OSError | None], None] | None = None,
        max_backlog: int = 65536,
    ) -> None:
        if tx_direction not in (TO_MCU, TO_STATION):
            raise ValueError(f"tx_direction must be {TO_MCU} or {TO_STATION}, got {tx_direction}")
        self.fd: int | None = None
        self.tx_direction = tx_direction
        self.deframer = Deframer(rx_direction=1 - tx_direction)
        self.on_failure = on_failure
        self.max_backlog = max_backlog
        self._counters = {"tx_frames": 0, "tx_dropped": 0, "rx_bytes": 0, "io_errors": 0}
        self._out = bytearray()
        self._deliver: Deliver | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending_fd = fd

    @property
    def stats(self) -> dict[str, int]:
        return {**self.deframer.stats, **self._counters}

    def start(self, deliver: Deliver) -> None:
        self._deliver = deliver
        self._loop = asyncio.get_running_loop()
        if self._pending_fd is not None:
            self.attach(self._pending_fd)

    def attach(self, fd: int) -> None:
        """Serve ``fd`` (after :meth:`start`), replacing a failed one."""
        assert self._loop is not None, "start() first"
        self.detach()
        os.set_blocking(fd, False)
        self.fd = fd
        self._loop.add_reader(fd, self._readable)

    def detach(self) -> None:
        if self.fd is not None and self._loop is not None:
            self._loop.remove_reader(self.fd)
            self._loop.remove_writer(self.fd)
        self.fd = None
        self._out.clear()

    def close(self) -> None:
        self.detach()

    def send(self, seq: int, message: bytes) -> None:
        data = encode_frame(seq, message, self.tx_direction)
        if self.fd is None or len(self._out) + len(data) > self.max_backlog:
            self._counters["tx_dropped"] += 1
            return
        self._counters["tx_frames"] += 1
        if self._out:
            self._out += data
            return
        try:
            written = os.write(self.fd, data)
        except (BlockingIOError, InterruptedError):
            written = 0
        except OSError as exc:
            self._failed(exc)
            return
        if written < len(data):
            self._out += data[written:]
            assert self._loop is not None
            self._loop.add_writer(self.fd, self._writable)

    def _writable(self) -> None:
        if self.fd is None:
            return
        try:
            written = os.write(self.fd, self._out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._failed(exc)
            return
        del self._out[:written]
        if not self._out and self._loop is not None:
            self._loop.remove_writer(self.fd)

    def _readable(self) -> None:
        if self.fd is None:
            return
        try:
            data = os.read(self.fd, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._failed(exc)
            return
        if not data:
            self._failed(None)
            return
        self._counters["rx_bytes"] += len(data)
        for frame in self.deframer.feed(data):
            if self._deliver is not None:
                self._deliver(frame.seq, frame.payload)

    def _failed(self, exc: OSError | None) -> None:
        self._counters["io_errors"] += 1
        log.warning("serial fd %s failed: %s", self.fd, exc or "end of file")
        self.detach()
        if self.on_failure is not None:
            self.on_failure(exc)


class SerialBackend(WireController):
    """The station's end of a serial line to the charge-controller MCU."""

    name = "serial"

    def __init__(
        self, port: str, baudrate: int = 115200, evses: Any = None, **options: Any
    ) -> None:
        if not isinstance(port, str) or not port:
            raise ValueError(f"serial backend: port must be a device path, got {port!r}")
        if isinstance(baudrate, bool) or not isinstance(baudrate, int) or baudrate <= 0:
            raise ValueError(
                f"serial backend: baudrate must be a positive integer, got {baudrate!r}"
            )
        super().__init__(evses, LinkOptions.parse(options, who="the serial HAL backend"))
        self.port = port
        self.baudrate = baudrate
        self.transport: SerialTransport | None = None
        self._serial: serial.Serial | None = None
        self._reopen: asyncio.Task[None] | None = None

    def _open_port(self) -> serial.Serial:
        try:
            port = serial.Serial(self.port, self.baudrate, timeout=0, write_timeout=0)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise HalError(f"cannot open serial port {self.port!r}: {exc}") from None
        port.reset_input_buffer()
        return port

    def _connect(self) -> Transport:
        self._serial = self._open_port()
        self.transport = SerialTransport(
            self._serial.fileno(), TO_MCU, on_failure=self._port_failed
        )
        return self.transport

    def _port_failed(self, exc: OSError | None) -> None:
        if self._reopen is None or self._reopen.done():
            self._reopen = asyncio.get_running_loop().create_task(self._reopen_loop())

    async def _reopen_loop(self) -> None:
        while not self._closed:
            await self.options.clock.sleep(REOPEN_INTERVAL)
            try:
                port = self._open_port()
            except HalError as exc:
                log.debug("%s", exc)
                continue
            if self._serial is not None:
                with contextlib.suppress(Exception):
                    self._serial.close()
            self._serial = port
            assert self.transport is not None
            self.transport.attach(port.fileno())
            log.info("serial port %s reopened", self.port)
            return

    async def close(self) -> None:
        if self._reopen is not None:
            self._reopen.cancel()
        await super().close()
        if self._serial is not None:
            with contextlib.suppress(Exception):
                self._serial.close()
            self._serial = None
