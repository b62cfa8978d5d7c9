"""A whole station on a real line (issue 10): ``ocpp-station run`` with the serial backend against
``ocpp-station controller-sim --pty``, both separate processes, carrying a charging session to the
independent CSMS; a silent controller (SIGSTOP) turning the connectors Faulted and the recovery;
and a station on the CAN backend over python-can's virtual bus."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import can
import pytest
from support import PASSWORD, station_config, to_toml

from ocpp_station import Station
from ocpp_station.control.server import call
from ocpp_station.csms import LocalCSMS

CLI = [sys.executable, "-m", "ocpp_station.cli"]


def events(csms: LocalCSMS, station: str) -> list[tuple[str, str]]:
    return [
        (e["eventType"], e["triggerReason"]) for e in csms.received("TransactionEvent", station)
    ]


def last_status(csms: LocalCSMS, station: str) -> str | None:
    found = csms.received("StatusNotification", station)
    return found[-1]["connectorStatus"] if found else None


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGCONT)
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except TimeoutError:
            proc.kill()
            await proc.wait()


@pytest.fixture
async def serial_rig(
    csms: LocalCSMS, short_tmp: Path
) -> AsyncIterator[tuple[asyncio.subprocess.Process, Path]]:
    """controller-sim on a pty + `ocpp-station run` with the serial backend on its path."""
    mcu_sock = short_tmp / "mcu.sock"
    mcu = await asyncio.create_subprocess_exec(
        *CLI, "controller-sim", "--pty", "--evses", "1", "--control", str(mcu_sock),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert mcu.stdout is not None
    pty_path = (await asyncio.wait_for(mcu.stdout.readline(), 15)).decode().strip()
    assert pty_path.startswith("/dev/")
    config = {
        "station": {
            "id": "SER001",
            "csms_url": csms.url,
            "data_dir": str(short_tmp / "data"),
            "password": PASSWORD,
        },
        "evse": [{"id": 1, "connectors": [1]}],
        "hal": {"backend": "serial", "port": pty_path, "baudrate": 115200},
        "device_model": {
            "SampledDataCtrlr.TxUpdatedInterval": 1,
            "OCPPCommCtrlr.RetryBackOffWaitMinimum": 1,
        },
    }
    toml = short_tmp / "serial.toml"
    toml.write_text(to_toml(config))
    station = await asyncio.create_subprocess_exec(*CLI, "run", "--config", str(toml))
    try:
        yield mcu, mcu_sock
    finally:
        await _stop(station)
        await _stop(mcu)


async def test_session_over_serial_between_two_processes(
    csms: LocalCSMS, serial_rig: tuple[asyncio.subprocess.Process, Path]
) -> None:
    _, mcu_sock = serial_rig
    await csms.wait_received("StatusNotification", station="SER001", timeout=20)
    assert last_status(csms, "SER001") == "Available"
    await call(mcu_sock, "sim.plug_in", {"evse": 1, "connector": 1})
    await call(mcu_sock, "sim.present_id_token", {"evse": 1, "id_token": "SERIALCARD"})
    await csms.wait_for(lambda: ("Started", "Authorized") in events(csms, "SER001"), timeout=10)
    # The EV charges: periodic meter values show the energy register advancing.
    await csms.wait_for(
        lambda: sum(1 for e in events(csms, "SER001") if e[1] == "MeterValuePeriodic") >= 2,
        timeout=10,
    )
    energies = [
        sv["value"]
        for e in csms.received("TransactionEvent", "SER001")
        for mv in e.get("meterValue", [])
        for sv in mv["sampledValue"]
        if sv.get("measurand", "Energy.Active.Import.Register") == "Energy.Active.Import.Register"
    ]
    assert energies[-1] > energies[0]
    await call(mcu_sock, "sim.unplug", {"evse": 1})
    await csms.wait_for(lambda: any(t == "Ended" for t, _ in events(csms, "SER001")), timeout=10)
    seq = [e["seqNo"] for e in csms.received("TransactionEvent", "SER001")]
    assert seq == list(range(len(seq)))


async def test_silent_controller_faults_connectors_and_recovers(
    csms: LocalCSMS, serial_rig: tuple[asyncio.subprocess.Process, Path]
) -> None:
    mcu, _ = serial_rig
    await csms.wait_received("StatusNotification", station="SER001", timeout=20)
    mcu.send_signal(signal.SIGSTOP)  # the controller stops answering
    t0 = time.monotonic()
    await csms.wait_for(lambda: last_status(csms, "SER001") == "Faulted", timeout=10)
    assert time.monotonic() - t0 < 5
    mcu.send_signal(signal.SIGCONT)
    await csms.wait_for(lambda: last_status(csms, "SER001") == "Available", timeout=10)


async def test_station_on_virtual_can_bus(csms: LocalCSMS, short_tmp: Path) -> None:
    from hal.backends.can import CanTransport
    from hal.canbus import CanAddressing
    from hal.framing import TO_STATION
    from hal.mcu import McuSimulator
    from hal.sim_model import SimulatedController

    channel = f"station-can-{time.monotonic_ns()}"
    mcu_bus = can.Bus(interface="virtual", channel=channel)
    model = SimulatedController({1: [1]}, now=time.time())
    mcu = McuSimulator(model, CanTransport(mcu_bus, TO_STATION, CanAddressing()))
    await mcu.start()
    config = station_config(
        csms.url,
        short_tmp / "can",
        station_id="CAN001",
        hal={"backend": "can", "interface": "virtual", "channel": channel},
        device_model={"SampledDataCtrlr.TxUpdatedInterval": 1},
    )
    station = Station(config)
    await station.start()
    try:
        await csms.wait_received("StatusNotification", station="CAN001")
        model.plug_in(1, 1)
        model.present_id_token(1, "CANCARD")
        mcu.pump()
        await csms.wait_for(lambda: ("Started", "Authorized") in events(csms, "CAN001"))
        # The station's current limit reached the MCU over CAN.
        await csms.wait_for(lambda: model.status()["evses"][0]["power_allowed"] is True)
        await csms.wait_for(
            lambda: any(t == "MeterValuePeriodic" for _, t in events(csms, "CAN001"))
        )
        model.unplug(1)
        mcu.pump()
        await csms.wait_for(lambda: any(t == "Ended" for t, _ in events(csms, "CAN001")))
    finally:
        await station.stop()
        await mcu.stop()
        mcu_bus.shutdown()
