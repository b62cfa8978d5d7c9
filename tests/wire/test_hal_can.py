"""The CAN mapping (pure) and the can backend against the MCU simulator on python-can's
``virtual`` bus and through ``slcan`` over a pseudo-terminal with a small slcan adapter."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import time
import tty
from collections.abc import AsyncIterator
from typing import Any

import can
import pytest
from hal_rig import FAST, SCENARIO_EVENTS, Collector, run_scenario

import hal
from hal.backends.can import CanBackend, CanTransport
from hal.canbus import CanAddressing
from hal.framing import TO_STATION
from hal.mcu import McuSimulator
from hal.sim_model import SimulatedController
from hal.types import HalError, IdTokenPresented, MeterReading

_channels = itertools.count()


def fresh_channel() -> str:
    return f"hal-test-{os.getpid()}-{next(_channels)}"


# --- the backend on a virtual bus ----------------------------------------------------------


@contextlib.asynccontextmanager
async def virtual_rig(**options: Any) -> AsyncIterator[tuple[CanBackend, McuSimulator]]:
    channel = fresh_channel()
    mcu_bus = can.Bus(interface="virtual", channel=channel)
    model = SimulatedController({1: [1]}, now=time.time(), meter_interval=0.1)
    mcu = McuSimulator(model, CanTransport(mcu_bus, TO_STATION, CanAddressing()), **FAST)
    await mcu.start()
    backend = hal.open("can", interface="virtual", channel=channel, evses={1: [1]}, **FAST)
    assert isinstance(backend, CanBackend)
    try:
        yield backend, mcu
    finally:
        await backend.close()
        await mcu.stop()
        mcu_bus.shutdown()


async def test_charging_scenario_on_a_virtual_bus_matches_serial() -> None:
    async with virtual_rig() as (backend, mcu):
        got = await run_scenario(backend, mcu.model, mcu.pump)
    assert [e for e in got if not isinstance(e, MeterReading)] == SCENARIO_EVENTS
    readings = [e for e in got if isinstance(e, MeterReading)]
    assert any(r.power_w == pytest.approx(6900.0) for r in readings)
    # meter readings (25-byte bodies) travelled as 5 frames each
    assert backend.stats["rx_frames"] > backend.stats["messages"]
    assert backend.stats["out_of_order"] == backend.stats["incomplete"] == 0


async def test_long_id_token_is_fragmented_and_reassembled() -> None:
    async with virtual_rig() as (backend, mcu):
        await backend.open()
        events = Collector(backend)
        token = "0123456789ABCDEF0123456789ABCDEF0123"  # 36 characters: 7 frames
        mcu.model.present_id_token(1, token, "eMAID")
        mcu.pump()
        await events.wait_for(lambda ev: IdTokenPresented(1, token, "eMAID") in ev)
        await events.close()


async def test_other_nodes_are_ignored() -> None:
    channel = fresh_channel()
    mcu_bus = can.Bus(interface="virtual", channel=channel)
    model = SimulatedController({1: [1]}, now=time.time())
    mcu = McuSimulator(model, CanTransport(mcu_bus, TO_STATION, CanAddressing(node=1)), **FAST)
    await mcu.start()
    backend = CanBackend("virtual", channel, node=0, **{**FAST, "attempts": 2})
    try:
        await backend.open()  # nobody answers node 0: starts in CommunicationLost
        assert not backend.connected
        with pytest.raises(HalError, match="no acknowledgement"):
            await backend.enable(1, True)
        assert mcu.link.stats["rx_messages"] == 0
    finally:
        await backend.close()
        await mcu.stop()
        mcu_bus.shutdown()


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match=r"unknown option\(s\) nod for the can HAL backend"):
        hal.open("can", interface="virtual", channel="x", nod=1)
    with pytest.raises(ValueError, match="outside the 11-bit range"):
        hal.open("can", interface="virtual", channel="x", node=9)


async def test_bad_interface_is_a_hal_error() -> None:
    backend = hal.open("can", interface="no-such-interface", channel="x")
    with pytest.raises(HalError, match="cannot open CAN interface 'no-such-interface'"):
        await backend.open()


# --- slcan over a pty -----------------------------------------------------------------------


class SlcanAdapter:
    """A tiny serial-line CAN adapter: slcan ASCII on a pty master <-> frames on a bus."""

    def __init__(self, master: int, bus: can.BusABC) -> None:
        self.master = master
        self.bus = bus
        self.commands: list[str] = []
        self._buf = b""
        loop = asyncio.get_running_loop()
        os.set_blocking(master, False)
        loop.add_reader(master, self._readable)
        self.notifier = can.Notifier(bus, [self._from_bus], timeout=0.05, loop=loop)

    def _readable(self) -> None:
        self._buf += os.read(self.master, 4096)
        *lines, self._buf = self._buf.split(b"\r")
        for line in lines:
            text = line.decode("ascii")
            if text.startswith("t"):
                can_id, dlc = int(text[1:4], 16), int(text[4])
                data = bytes.fromhex(text[5 : 5 + 2 * dlc])
                self.bus.send(can.Message(arbitration_id=can_id, data=data, is_extended_id=False))
                os.write(self.master, b"z\r")
            else:
                self.commands.append(text)  # O, C, S6 ...
                os.write(self.master, b"\r")

    def _from_bus(self, msg: can.Message) -> None:
        line = f"t{msg.arbitration_id:03X}{msg.dlc}{bytes(msg.data).hex().upper()}\r"
        os.write(self.master, line.encode())

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.master)
        self.notifier.stop(timeout=1.0)


async def test_slcan_over_a_pty() -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    channel = fresh_channel()
    adapter_bus = can.Bus(interface="virtual", channel=channel)
    mcu_bus = can.Bus(interface="virtual", channel=channel)
    adapter = SlcanAdapter(master, adapter_bus)
    model = SimulatedController({1: [1]}, now=time.time(), meter_interval=0.1)
    mcu = McuSimulator(model, CanTransport(mcu_bus, TO_STATION, CanAddressing()), **FAST)
    await mcu.start()
    backend = CanBackend(
        "slcan",
        os.ttyname(slave),
        bitrate=500000,
        bus_options={"sleep_after_open": 0},
        **{**FAST, "ack_timeout": 0.2},
    )
    try:
        got = await run_scenario(backend, model, mcu.pump)
        assert [e for e in got if not isinstance(e, MeterReading)] == SCENARIO_EVENTS
        assert "S6" in adapter.commands and "O" in adapter.commands  # 500 kbit/s, opened
    finally:
        await backend.close()
        await mcu.stop()
        adapter.close()
        adapter_bus.shutdown()
        mcu_bus.shutdown()
        os.close(master)
        os.close(slave)
