"""The serial backend against the MCU simulator over real pseudo-terminals: the charging
scenario, a line corrupting 1 % of its bytes, and a controller that stops answering."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
import tty
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hal_rig import FAST, SCENARIO_EVENTS, Collector, run_scenario

import hal
from hal.backends.serial import SerialBackend, SerialTransport
from hal.framing import TO_STATION
from hal.link import CommandRejected, NoAcknowledge
from hal.mcu import McuSimulator
from hal.messages import Lock, SetCurrentLimit
from hal.sim_model import SimulatedController
from hal.types import (
    COMMUNICATION_LOST,
    FaultChanged,
    HalError,
    HalEvent,
    LockChanged,
    MeterReading,
    PlugChanged,
)


def raw_pty() -> tuple[int, int, str]:
    master, slave = os.openpty()
    tty.setraw(slave)
    return master, slave, os.ttyname(slave)


@contextlib.asynccontextmanager
async def serial_rig(**options: Any) -> AsyncIterator[tuple[SerialBackend, McuSimulator]]:
    master, slave, path = raw_pty()
    model = SimulatedController({1: [1]}, now=time.time(), meter_interval=0.1)
    mcu = McuSimulator(model, SerialTransport(master, TO_STATION), **FAST)
    await mcu.start()
    backend = hal.open("serial", port=path, evses={1: [1]}, **{**FAST, **options})
    assert isinstance(backend, SerialBackend)
    try:
        yield backend, mcu
    finally:
        await backend.close()
        await mcu.stop()
        os.close(master)
        os.close(slave)


async def test_charging_scenario_over_a_pty() -> None:
    async with serial_rig() as (backend, mcu):
        got = await run_scenario(backend, mcu.model, mcu.pump)
    assert [e for e in got if not isinstance(e, MeterReading)] == SCENARIO_EVENTS
    readings = [e for e in got if isinstance(e, MeterReading)]
    assert [r.energy_wh for r in readings] == sorted(r.energy_wh for r in readings)
    assert any(r.power_w == pytest.approx(6900.0) for r in readings)  # 10 A x 3 x 230 V
    assert backend.stats["crc_errors"] == 0 and backend.stats["send_failures"] == 0


async def test_open_reports_the_full_state_first() -> None:
    async with serial_rig() as (backend, mcu):
        mcu.model.plug_in(1)
        mcu.pump()
        await backend.open()
        events = Collector(backend)
        await events.wait_for(lambda ev: PlugChanged(1, 1, True) in ev)
        await events.close()
        assert events.events[0] == PlugChanged(1, 1, True)  # snapshot, not a stale queue


async def test_rejected_and_refused_commands() -> None:
    async with serial_rig() as (backend, mcu):
        await backend.open()
        with pytest.raises(HalError, match="unknown evse 2"):  # checked before sending
            await backend.enable(2, True)
        with pytest.raises(HalError, match="current limit must be a number >= 0"):
            await backend.set_current_limit(1, -3.0)
        backend.evses = None  # now the MCU has to refuse it
        with pytest.raises(CommandRejected, match="UNKNOWN_EVSE") as info:
            await backend.lock(1, 5, True)
        assert info.value.code == 4
        assert mcu.link.stats["nacks_sent"] == 1


def test_unknown_option_is_named() -> None:
    with pytest.raises(ValueError, match=r"unknown option\(s\) retries for the serial HAL backend"):
        hal.open("serial", port="/dev/null", retries=3)
    with pytest.raises(ValueError, match="ack_timeout must be > 0"):
        hal.open("serial", port="/dev/null", ack_timeout=0)


async def test_missing_port_is_a_hal_error() -> None:
    backend = hal.open("serial", port="/nonexistent/ttyX")
    with pytest.raises(HalError, match="cannot open serial port '/nonexistent/ttyX'"):
        await backend.open()


class CorruptingRelay:
    """Copies bytes between two pty masters, flipping ``rate`` of them (seeded)."""

    def __init__(self, a: int, b: int, rate: float, seed: int) -> None:
        self.rng = random.Random(seed)
        self.rate = rate
        self.corrupted = 0
        loop = asyncio.get_running_loop()
        for src, dst in ((a, b), (b, a)):
            os.set_blocking(src, False)
            loop.add_reader(src, self._copy, src, dst)
        self.fds = (a, b)

    def _copy(self, src: int, dst: int) -> None:
        try:
            data = bytearray(os.read(src, 4096))
        except BlockingIOError:
            return
        for i in range(len(data)):
            if self.rng.random() < self.rate:
                data[i] ^= self.rng.randrange(1, 256)
                self.corrupted += 1
        os.write(dst, data)

    def close(self) -> None:
        loop = asyncio.get_running_loop()
        for fd in self.fds:
            loop.remove_reader(fd)


async def test_one_percent_corruption_every_acknowledged_command_exactly_once() -> None:
    station_master, station_slave, station_path = raw_pty()
    mcu_master, mcu_slave, _ = raw_pty()
    relay = CorruptingRelay(station_master, mcu_master, 0.01, seed=2024)
    model = SimulatedController({1: [1]}, now=time.time(), meter_interval=0.2)
    options = {**FAST, "attempts": 8, "ack_timeout": 0.05}
    mcu = McuSimulator(model, SerialTransport(mcu_slave, TO_STATION), **options)
    await mcu.start()
    backend = SerialBackend(station_path, evses={1: [1]}, **options)
    try:
        await backend.open()
        events = Collector(backend)
        acked: list[Any] = []
        failed: list[Any] = []
        for i in range(150):
            cmd: Any = (
                Lock(1, 1, bool(i % 2)) if i % 3 == 0 else SetCurrentLimit(1, (600 + i) / 100)
            )
            try:
                if isinstance(cmd, Lock):
                    await backend.lock(cmd.evse, cmd.connector, cmd.locked)
                else:
                    await backend.set_current_limit(cmd.evse, cmd.amps)
                acked.append(cmd)
            except NoAcknowledge:
                failed.append(cmd)
        executed = [c for c in mcu.executed if isinstance(c, Lock | SetCurrentLimit)]
        # 8 attempts make a lost command improbable (~0.2 ** 8); exactly once and in order:
        assert failed == []
        assert executed == acked
        # Events are acknowledged too: every LockChanged arrives once, in order.
        locks = [LockChanged(1, 1, c.locked) for c in executed if isinstance(c, Lock)]

        def all_locks(ev: list[HalEvent]) -> bool:
            return [e for e in ev if isinstance(e, LockChanged)][-len(locks) :] == locks

        await events.wait_for(all_locks, timeout=10)
        received = [e for e in events.events if isinstance(e, LockChanged)]
        assert len(received) in (len(locks), len(locks) + 1)  # + the one of the state report
        await events.close()
    finally:
        await backend.close()
        await mcu.stop()
        relay.close()
        for fd in (station_master, station_slave, mcu_master, mcu_slave):
            os.close(fd)
    assert relay.corrupted > 20
    damaged = sum(backend.stats[k] + mcu.link.all_stats()[k] for k in ("crc_errors", "cobs_errors"))
    assert damaged > 0
    assert backend.stats["retransmissions"] > 0


async def test_silent_controller_reports_communication_lost_then_resyncs() -> None:
    async with serial_rig(ping_interval=0.1, liveness_timeout=0.5) as (backend, mcu):
        await backend.open()
        events = Collector(backend)
        lost = FaultChanged(0, COMMUNICATION_LOST, True)
        cleared = FaultChanged(0, COMMUNICATION_LOST, False)
        mcu.silent = True
        await events.wait_for(lambda ev: lost in ev, timeout=3)
        assert not backend.connected
        with pytest.raises(NoAcknowledge):
            await backend.allow_power(1, True)
        mcu.model.plug_in(1)  # happens while the line is dead
        mcu.pump()
        mark = events.mark()
        mcu.silent = False
        await events.wait_for(lambda ev: cleared in ev[mark:], timeout=3)
        await events.wait_for(lambda ev: PlugChanged(1, 1, True) in ev[mark:], timeout=3)
        after = events.events[mark:]
        assert after.index(cleared) < after.index(PlugChanged(1, 1, True))
        assert backend.connected
        assert backend.stats["comm_lost"] == 1
        await backend.allow_power(1, True)  # commands work again
        await events.close()
