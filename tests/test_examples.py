"""Every example under examples/ runs: the configs load and boot, the custom HAL backend drives a
station over a real pty, the embedding example runs against the CSMS."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from certs import make_pki
from support import to_toml

import hal
from ocpp_station import Station
from ocpp_station.config import config_from_dict, load_config
from ocpp_station.control.server import call
from ocpp_station.csms import LocalCSMS

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))

from custom_hal import AsciiController, parse_event  # noqa: E402
from embed import run as run_embedded  # noqa: E402


def _example(name: str) -> dict[str, Any]:
    return tomllib.loads((EXAMPLES / name).read_text())


def test_every_example_config_is_valid(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    sim = load_config(EXAMPLES / "sim_station.toml")
    assert sim.hal_backend == "sim" and len(sim.evses) == 2
    for name, backend in (("serial_station.toml", "serial"), ("can_station.toml", "can")):
        data = _example(name)
        for key, path in (
            ("ca_file", pki.ca_cert),
            ("cert_file", pki.client_cert),
            ("key_file", pki.client_key),
        ):
            if key in data["station"]:
                data["station"][key] = str(path)
        config = config_from_dict(data, source=name, base=EXAMPLES)
        assert config.hal_backend == backend


async def test_sim_example_runs_as_a_process(csms: LocalCSMS, short_tmp: Path) -> None:
    """`ocpp-station run --config` boots against a CSMS on loopback, serves `ctl`, and stops
    cleanly on SIGTERM (closing the websocket)."""
    data = _example("sim_station.toml")
    data["station"]["csms_url"] = csms.url
    data["station"]["data_dir"] = str(short_tmp / "data")
    data["control"]["socket"] = str(short_tmp / "c.sock")
    config_file = short_tmp / "station.toml"
    config_file.write_text(to_toml(data))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ocpp_station.cli", "run", "--config", str(config_file),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await csms.wait_received("StatusNotification", count=2, station="CS001", timeout=20)
        status = await call(short_tmp / "c.sock", "status")
        assert status["registration"] == "Accepted" and status["connected"] is True
        ctl = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ocpp_station.cli", "ctl", "--config", str(config_file),
            "sim.plug_in", json.dumps({"evse": 1, "connector": 1}),
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await ctl.communicate()
        assert ctl.returncode == 0 and json.loads(out) == {"ok": True}
        await csms.wait_for(
            lambda: any(
                s["connectorStatus"] == "Occupied" for s in csms.received("StatusNotification")
            )
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()
    await csms.wait_for(lambda: "CS001" not in csms.links)


class FakeMcu:
    """The board's side of the example's ASCII protocol, on the master end of a pty."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.commands: list[str] = []
        self._buffer = b""
        asyncio.get_running_loop().add_reader(fd, self._readable)

    def _readable(self) -> None:
        self._buffer += os.read(self.fd, 4096)
        *lines, self._buffer = self._buffer.split(b"\n")
        for raw in lines:
            line = raw.decode().strip()
            self.commands.append(line)
            if line == "BAD":
                self.send("ERR unknown command")
            else:
                self.send("OK")
            if line == "STATE?":
                self.send("EV PLUG 1 1 0")
                self.send("EV PILOT 1 A")

    def send(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\n")

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.fd)


def test_parse_event_rejects_garbage() -> None:
    assert parse_event("EV PLUG 1 1 1") == hal.PlugChanged(1, 1, True)
    for bad in ("EV", "EV NOPE 1", "EV METER 1 2 3", "hello"):
        with pytest.raises((ValueError, IndexError)):
            parse_event(bad)


async def test_custom_backend_drives_a_session(csms: LocalCSMS, short_tmp: Path) -> None:
    master, slave = os.openpty()
    import tty

    tty.setraw(master)
    tty.setraw(slave)
    mcu = FakeMcu(master)
    hal.register("ascii-example", AsciiController)
    controller = hal.open("ascii-example", port=os.ttyname(slave), evses={1: [1]})
    config = config_from_dict(
        {
            "station": {
                "id": "CUSTOM1",
                "csms_url": csms.url,
                "data_dir": str(short_tmp / "d"),
                "password": "example-password-0123",
            },
            "evse": [{"id": 1, "connectors": [1]}],
            "hal": {"backend": "ascii-example"},
        }
    )
    station = Station(config, controller=controller)
    await station.start()
    try:
        await csms.wait_received("StatusNotification", station="CUSTOM1")
        mcu.send("garbage that is no event")
        mcu.send("EV PLUG 1 1 1")
        mcu.send("EV PILOT 1 B")
        mcu.send("EV RFID 1 CARD-7")
        started = await csms.wait_for(
            lambda: [e for e in csms.received("TransactionEvent") if e["eventType"] == "Started"]
        )
        assert started[0]["idToken"]["idToken"] == "CARD-7"
        # The station told the board to offer power and set its limit over the ASCII protocol.
        await csms.wait_for(lambda: "PWR 1 1" in mcu.commands)
        assert any(c.startswith("LIM 1 ") for c in mcu.commands)
        assert "EN 1 1" in mcu.commands
    finally:
        await station.stop()
        mcu.close()
        os.close(master)
        os.close(slave)


async def test_embedding_example(csms: LocalCSMS, short_tmp: Path) -> None:
    published = await run_embedded(csms.url, short_tmp / "embedded", seconds=0.3)
    assert "boot_notification_response" in published
    assert "is_connected" in published
    assert csms.received("BootNotification", "EMBEDDED-1")
