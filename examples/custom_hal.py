"""A custom HAL backend: how a firmware team plugs its own charge controller into ocpp-station.

This one drives a (fictional but typical) relay board whose MCU firmware already speaks a simple
ASCII line protocol on a serial port.  Copy it, change the protocol, register it under a name and
put that name in the station config's ``[hal] backend``:

    import hal
    from custom_hal import AsciiController
    hal.register("ascii", AsciiController)

Protocol (one line each, ``\\n``-terminated):
  station → MCU:  ``EN <evse> <0|1>``, ``PWR <evse> <0|1>``, ``LIM <evse> <amps> <phases>``,
                  ``LOCK <evse> <connector> <0|1>``, ``RST``, ``STATE?``; the MCU answers each with
                  ``OK`` or ``ERR <text>``.
  MCU → station:  events, any time: ``EV PLUG <evse> <conn> <0|1>``, ``EV PILOT <evse> <A-F>``,
                  ``EV CONTACTOR <evse> <0|1>``, ``EV RFID <evse> <token>``,
                  ``EV FAULT <evse> <code> <0|1>``, ``EV LOCK <evse> <conn> <0|1>``,
                  ``EV METER <evse> <Wh> <W> <A1> <A2> <A3> <V1> <V2> <V3>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence

import serial

from hal import (
    ChargeController,
    ContactorChanged,
    FaultChanged,
    HalError,
    HalEvent,
    IdTokenPresented,
    LockChanged,
    MeterReading,
    PilotState,
    PilotStateChanged,
    PlugChanged,
)

LOG = logging.getLogger("examples.custom_hal")


def parse_event(line: str) -> HalEvent:
    """One ``EV ...`` line → a HAL event; ValueError names what is wrong."""
    f = line.split()
    if len(f) < 3 or f[0] != "EV":
        raise ValueError(f"not an event line: {line!r}")
    kind, evse = f[1], int(f[2])
    if kind == "PLUG":
        return PlugChanged(evse, int(f[3]), f[4] == "1")
    if kind == "PILOT":
        return PilotStateChanged(evse, PilotState(f[3]))
    if kind == "CONTACTOR":
        return ContactorChanged(evse, f[3] == "1")
    if kind == "RFID":
        return IdTokenPresented(evse, f[3])
    if kind == "FAULT":
        return FaultChanged(evse, f[3], f[4] == "1")
    if kind == "LOCK":
        return LockChanged(evse, int(f[3]), f[4] == "1")
    if kind == "METER":
        v = [float(x) for x in f[3:12]]
        if len(v) != 9:
            raise ValueError(f"METER needs 9 values: {line!r}")
        return MeterReading(evse, v[0], v[1], (v[2], v[3], v[4]), (v[5], v[6], v[7]))
    raise ValueError(f"unknown event {kind!r}")


class AsciiController(ChargeController):
    def __init__(
        self,
        port: str,
        baudrate: int = 115200,
        evses: Mapping[int, Sequence[int]] | None = None,
        timeout: float = 1.0,
    ) -> None:
        self.port, self.baudrate, self.timeout = port, baudrate, timeout
        self.evses = dict(evses or {1: [1]})
        self._serial: serial.Serial | None = None
        self._events: asyncio.Queue[HalEvent | None] = asyncio.Queue()
        self._reply: asyncio.Future[str] | None = None
        self._lock = asyncio.Lock()
        self._buffer = b""

    async def open(self) -> None:
        self._serial = serial.Serial(self.port, self.baudrate, timeout=0)
        asyncio.get_running_loop().add_reader(self._serial.fileno(), self._readable)
        await self._command("STATE?")  # the MCU answers OK, then reports its state as events

    async def close(self) -> None:
        if self._serial is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._serial.fileno())
            self._serial.close()
            self._serial = None
        self._events.put_nowait(None)

    def _readable(self) -> None:
        assert self._serial is not None
        try:
            self._buffer += self._serial.read(4096)
        except serial.SerialException as exc:
            LOG.warning("serial read failed: %s", exc)
            return
        *lines, self._buffer = self._buffer.split(b"\n")
        for raw in lines:
            line = raw.decode("ascii", "replace").strip()
            if not line:
                continue
            if line.startswith("EV "):
                try:
                    self._events.put_nowait(parse_event(line))
                except (ValueError, IndexError) as exc:  # garbage is counted out, never fatal
                    LOG.warning("dropped line %r: %s", line, exc)
            elif self._reply is not None and not self._reply.done():
                self._reply.set_result(line)

    async def _command(self, line: str) -> None:
        if self._serial is None:
            raise HalError("controller not open")
        async with self._lock:
            self._reply = asyncio.get_running_loop().create_future()
            self._serial.write(line.encode("ascii") + b"\n")
            try:
                answer = await asyncio.wait_for(self._reply, self.timeout)
            except TimeoutError:
                raise HalError(f"{line!r}: no answer from the controller") from None
        if answer != "OK":
            raise HalError(f"{line!r}: {answer}")

    async def enable(self, evse: int, enabled: bool) -> None:
        await self._command(f"EN {evse} {int(enabled)}")

    async def allow_power(self, evse: int, allowed: bool) -> None:
        await self._command(f"PWR {evse} {int(allowed)}")

    async def set_current_limit(self, evse: int, amps: float, phases: int = 3) -> None:
        await self._command(f"LIM {evse} {amps:.1f} {phases}")

    async def lock(self, evse: int, connector: int, locked: bool) -> None:
        await self._command(f"LOCK {evse} {connector} {int(locked)}")

    async def reset(self) -> None:
        await self._command("RST")

    async def events(self) -> AsyncIterator[HalEvent]:  # type: ignore[override]
        while (event := await self._events.get()) is not None:
            yield event
