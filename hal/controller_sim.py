"""The MCU side of the ``controller-sim`` process: the line it serves and the simulator on it.

:func:`open_line` opens the MCU's end of a pseudo-terminal, a serial port or a CAN bus (any
python-can interface: ``virtual``, ``socketcan``, ``slcan``...); :func:`new_mcu` builds a
:class:`~hal.sim_model.SimulatedController` of N EVSEs with M connectors each and serves it on
that line with :class:`~hal.mcu.McuSimulator`.  The process around them (its command line, the
control socket with the ``sim.*`` methods, the signals) is the ``ocpp-station controller-sim``
command.
"""

from __future__ import annotations

import os
import tty
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import can
import serial

from hal.backends.can import CanTransport
from hal.backends.serial import SerialTransport
from hal.canbus import CanAddressing
from hal.clock import Clock, SystemClock
from hal.framing import TO_STATION
from hal.link import Transport
from hal.mcu import McuSimulator
from hal.sim_model import SimulatedController


@dataclass(frozen=True, slots=True)
class Line:
    """The MCU's transport, the name the station opens (pty path, serial path or CAN spec), and
    how to close the line."""

    transport: Transport
    name: str
    close: Callable[[], None]


def open_pty() -> Line:
    """A raw pseudo-terminal: the MCU holds the master, the station opens :attr:`Line.name`."""
    master, slave = os.openpty()
    tty.setraw(slave)  # no echo, no line discipline: the station sees our bytes as sent

    def close() -> None:
        os.close(master)
        os.close(slave)  # held open until now so the master never sees a hang-up

    return Line(SerialTransport(master, TO_STATION), os.ttyname(slave), close)


def open_serial(path: str, baudrate: int = 115200) -> Line:
    port = serial.Serial(path, baudrate, timeout=0, write_timeout=0)
    return Line(SerialTransport(port.fileno(), TO_STATION), path, port.close)


def open_can(spec: str, *, bitrate: int | None = None, node: int = 0) -> Line:
    """``spec`` is ``INTERFACE:CHANNEL``, e.g. ``virtual:vcan0`` or ``socketcan:can0``."""
    interface, sep, channel = spec.partition(":")
    if not sep or not interface or not channel:
        raise ValueError(f"--can needs INTERFACE:CHANNEL (e.g. virtual:vcan0), got {spec!r}")
    options: dict[str, Any] = {} if bitrate is None else {"bitrate": bitrate}
    bus = can.Bus(interface=interface, channel=channel, **options)
    transport = CanTransport(bus, TO_STATION, CanAddressing(node=node))
    return Line(transport, spec, bus.shutdown)


def open_line(
    *,
    pty: bool = False,
    serial_path: str | None = None,
    can_spec: str | None = None,
    baudrate: int = 115200,
    bitrate: int | None = None,
    node: int = 0,
) -> Line:
    """Open exactly one of: a pseudo-terminal, the serial port ``serial_path``, the CAN bus
    ``can_spec``.  Errors of pyserial and python-can pass through unchanged."""
    if sum((bool(pty), serial_path is not None, can_spec is not None)) != 1:
        raise ValueError("open_line needs exactly one of pty, serial_path, can_spec")
    if pty:
        return open_pty()
    if serial_path is not None:
        return open_serial(serial_path, baudrate)
    assert can_spec is not None
    return open_can(can_spec, bitrate=bitrate, node=node)


def new_mcu(
    line: Line,
    evses: int,
    connectors: int,
    *,
    meter_interval: float = 1.0,
    clock: Clock | None = None,
) -> McuSimulator:
    """A simulated controller with EVSEs ``1..evses``, each with connectors ``1..connectors``,
    served on ``line`` (not started: ``await mcu.start()``)."""
    clock = clock if clock is not None else SystemClock()
    layout = {e: list(range(1, connectors + 1)) for e in range(1, evses + 1)}
    model = SimulatedController(layout, now=clock.time(), meter_interval=meter_interval)
    return McuSimulator(model, line.transport, clock=clock)
