"""The serial backend against the MCU simulator over real pseudo-terminals: the charging
scenario, a line corrupting 1 % of its bytes, and a controller that stops answering."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
import tty
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

import hal
from hal.backends.serial import SerialBackend, SerialTransport
from hal.codec import AckResult, Enable, Lock, Reset, SetCurrentLimit
from hal.framing import TO_STATION
from hal.link import CommandRejected, Link, LinkOptions, NoAcknowledge
from hal.mcu import McuSimulator
from hal.sim_model import SimulatedController
from hal.types import (
    COMMUNICATION_LOST,
    ContactorChanged,
    FaultChanged,
    HalError,
    HalEvent,
    LockChanged,
    MeterReading,
    PilotState,
    PilotStateChanged,
    PlugChanged,
)
from ocpp_station.clock import ManualClock

# Short timeouts keep the tests quick; liveness is generous so that a loaded machine does not
# report a spurious CommunicationLost (the liveness tests set their own).
FAST: dict[str, Any] = {"ack_timeout": 0.1, "ping_interval": 0.2, "liveness_timeout": 2.0}

# What the station sees of plug -> allow power -> 10 A -> unplug (meter readings left out);
# tests/test_hal_can.py expects exactly the same over CAN.
SCENARIO_EVENTS: list[HalEvent] = [
    PlugChanged(1, 1, True),
    PilotStateChanged(1, PilotState.B),
    PilotStateChanged(1, PilotState.C),
    ContactorChanged(1, True),
    ContactorChanged(1, False),
    PilotStateChanged(1, PilotState.A),
    PlugChanged(1, 1, False),
]


class Collector:
    """Reads a controller's events in the background; tests wait for conditions on them."""

    def __init__(self, controller: hal.ChargeController) -> None:
        self.events: list[HalEvent] = []
        self._changed = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(controller.events()))

    async def _run(self, events: AsyncIterator[HalEvent]) -> None:
        async for event in events:
            self.events.append(event)
            self._changed.set()

    async def wait_for(self, pred: Callable[[list[HalEvent]], bool], timeout: float = 5.0) -> None:
        async def loop() -> None:
            while not pred(self.events):
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(loop(), timeout)

    def mark(self) -> int:
        return len(self.events)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


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


async def run_scenario(
    backend: hal.ChargeController, model: SimulatedController, pump: Callable[[], None]
) -> list[HalEvent]:
    """plug -> allow power -> limit 10 A -> meter advancing -> unplug; returns the events after
    the initial state report."""
    await backend.open()
    events = Collector(backend)
    try:
        await events.wait_for(lambda ev: any(isinstance(e, MeterReading) for e in ev))
        start = events.mark()
        model.plug_in(1)
        pump()
        await backend.allow_power(1, True)
        await backend.set_current_limit(1, 10.0)

        def charging(ev: list[HalEvent]) -> bool:
            readings = [
                e for e in ev[start:] if isinstance(e, MeterReading) and e.current_a[0] == 10.0
            ]
            return len(readings) >= 2 and readings[-1].energy_wh > readings[0].energy_wh

        await events.wait_for(charging)
        model.unplug(1)
        pump()
        await events.wait_for(lambda ev: PlugChanged(1, 1, False) in ev[start:])
        return events.events[start:]
    finally:
        await events.close()


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


# --- the link rules with a ManualClock and an in-memory line ---------------------------------


class MemoryLine:
    """Two transports delivering to each other at once; ``drop`` decides per message."""

    def __init__(self) -> None:
        self.drop: Callable[[str, int, bytes], bool] = lambda side, seq, data: False
        self.ends = [self._End(self, "a"), self._End(self, "b")]

    class _End:
        def __init__(self, line: MemoryLine, side: str) -> None:
            self.line, self.side = line, side
            self.deliver: Callable[[int, bytes], None] | None = None
            self.stats: dict[str, int] = {}

        def start(self, deliver: Callable[[int, bytes], None]) -> None:
            self.deliver = deliver

        def send(self, seq: int, message: bytes) -> None:
            peer = self.line.ends[1] if self is self.line.ends[0] else self.line.ends[0]
            if not self.line.drop(self.side, seq, message) and peer.deliver is not None:
                peer.deliver(seq, message)

        def close(self) -> None:
            self.deliver = None


async def settle() -> None:
    """Let started tasks run up to their first wait on the ManualClock."""
    for _ in range(10):
        await asyncio.sleep(0)


async def test_lost_ack_is_repeated_and_not_executed_twice() -> None:
    clock = ManualClock()
    line = MemoryLine()
    dropped: list[bytes] = []

    def drop_first_ack(side: str, seq: int, data: bytes) -> bool:
        if side == "b" and data[:1] == b"\x10" and not dropped:
            dropped.append(data)
            return True
        return False

    line.drop = drop_first_ack
    executed: list[Any] = []
    a = Link(line.ends[0], executed.append, LinkOptions(clock=clock))
    b = Link(line.ends[1], executed.append, LinkOptions(clock=clock))
    a.start()
    b.start()
    task = asyncio.create_task(a.request(Enable(1, True)))
    await settle()
    assert executed == [Enable(1, True)] and dropped == [b"\x10\x00"]
    await clock.advance(0.1)  # ack timeout: the same seq and bytes again
    assert await asyncio.wait_for(task, 5) == AckResult.DUPLICATE
    assert executed == [Enable(1, True)]
    assert a.stats["retransmissions"] == 1 and b.stats["duplicates"] == 1
    assert await a.request(Enable(1, True)) == AckResult.OK  # same bytes, new seq: executed
    assert executed == [Enable(1, True)] * 2


async def test_no_answer_after_every_attempt() -> None:
    clock = ManualClock()
    line = MemoryLine()
    line.drop = lambda side, seq, data: True
    a = Link(line.ends[0], lambda m: None, LinkOptions(clock=clock, attempts=3))
    a.start()
    task = asyncio.create_task(a.request(Reset()))
    for _ in range(3):
        await settle()
        await clock.advance(0.1)
    with pytest.raises(NoAcknowledge, match="after 3 attempt"):
        await task
    assert a.stats["retransmissions"] == 2 and a.stats["send_failures"] == 1


async def test_liveness_with_a_manual_clock() -> None:
    clock = ManualClock()
    line = MemoryLine()
    log: list[str] = []
    options = LinkOptions(clock=clock, ping_interval=0.5, liveness_timeout=1.5)
    station = Link(
        line.ends[0],
        lambda m: None,
        options,
        ping=True,
        on_lost=lambda: log.append("lost"),
        on_restored=lambda: log.append("restored"),
    )
    mcu = Link(line.ends[1], lambda m: None, LinkOptions(clock=clock))
    station.start()
    mcu.start()
    await settle()
    await clock.advance(3.0)
    assert log == [] and station.stats["pings_sent"] == 6  # PONGs keep it alive
    mcu.muted = True
    await clock.advance(1.5)
    assert log == []
    await clock.advance(0.5)  # 2.0 s without a frame > 1.5 s
    assert log == ["lost"] and not station.alive
    await clock.advance(5.0)
    assert log == ["lost"]  # reported once
    mcu.muted = False
    await clock.advance(0.5)
    assert log == ["lost", "restored"] and station.alive
    await station.close()


async def test_malformed_and_unknown_messages_are_nacked() -> None:
    line = MemoryLine()
    got: list[bytes] = []
    b = Link(line.ends[1], lambda m: None, LinkOptions())
    b.start()
    line.ends[0].deliver = lambda seq, data: got.append(bytes([seq]) + data)
    line.ends[0].send(3, b"\x01\x01\x07")  # ENABLE with a bool of 7
    line.ends[0].send(4, b"\x3e")  # no such type
    line.ends[0].send(5, b"\x10\x00\x00")  # a malformed ACK: never answered
    assert got == [b"\x03\x11\x01", b"\x04\x11\x02"]
    assert b.stats["decode_errors"] == 2 and b.stats["unknown_types"] == 1
