"""The custom HAL backend of ``examples/custom_hal.py`` drives a station over a real pty: a fake
board speaks the example's ASCII protocol on the master end."""

from __future__ import annotations

import asyncio
import os
import sys
import tty
from pathlib import Path

import pytest
from support import EXAMPLES

import hal
from ocpp_station import Station
from ocpp_station.config import config_from_dict
from ocpp_station.csms import LocalCSMS

sys.path.insert(0, str(EXAMPLES))

from custom_hal import AsciiController, parse_event


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
