"""Helpers shared by the tests (import as ``from support import ...`` from any folder).

Integration tests observe a station only through the CSMS, the control socket, the simulated
controller and the public station API; the helpers here keep to those channels.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from hal.backends.sim import SimBackend

# What the embedding API raises (``Station.data_transfer``, see docs/data-transfer.md), at the
# import paths its users are told to use; integration tests name them from here.
from ocpp_station import NotReady as NotReady
from ocpp_station import OCPPError as OCPPError
from ocpp_station import Station
from ocpp_station.config import StationConfig, config_from_dict
from ocpp_station.control.publications import shape
from ocpp_station.csms import LocalCSMS

PASSWORD = "test-password-0123456"

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
EXAMPLES = REPO / "examples"
FIXTURES = TESTS / "fixtures"

StationFactory = Callable[..., Awaitable[Station]]


def station_config(
    csms_url: str,
    data_dir: Path,
    *,
    station_id: str = "CS001",
    evses: list[dict[str, Any]] | None = None,
    device_model: dict[str, Any] | None = None,
    hal: dict[str, Any] | None = None,
    control: Path | None = None,
    **station: Any,
) -> StationConfig:
    data: dict[str, Any] = {
        "station": {
            "id": station_id,
            "csms_url": csms_url,
            "data_dir": str(data_dir),
            "vendor": "TestVendor",
            "model": "TestModel",
            "serial_number": "SN-1",
            "firmware_version": "1.0.0",
            "password": PASSWORD,
            **station,
        },
        "evse": evses or [{"id": 1, "connectors": [1]}],
        "hal": hal or {"backend": "sim", "tick": 0.05},
        "device_model": {
            "OCPPCommCtrlr.RetryBackOffWaitMinimum": 1,
            "OCPPCommCtrlr.RetryBackOffRandomRange": 0,
            "OCPPCommCtrlr.MessageTimeout[Default]": 5,
            **(device_model or {}),
        },
    }
    if control is not None:
        data["control"] = {"socket": str(control)}
    return config_from_dict(data, source="test")


_FLEET_TEMPLATE = """\
[station]
id = "{id}"
csms_url = "{url}"
data_dir = "{data}"
password = "{password}"
log_level = "WARNING"
[[evse]]
id = 1
connectors = [1]
[hal]
backend = "sim"
tick = 1.0
"""


UNREACHABLE = "ws://127.0.0.1:9/ocpp"  # (nothing listens there: the station never connects)


@asynccontextmanager
async def offline_station(
    data_dir: Path, device_model: dict[str, Any] | None = None
) -> AsyncIterator[Station]:
    """A started station (sim HAL, real store, every block) whose CSMS is unreachable; stopped
    at the end of the block."""
    started = Station(station_config(UNREACHABLE, data_dir, device_model=device_model))
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


def offline_station_toml(folder: Path, *, station: str = "", extra: str = "") -> Path:
    """``folder/station.toml``: one station ``S`` with one EVSE on the sim HAL, its data in
    ``folder/data``, its CSMS unreachable; ``station`` adds lines to ``[station]``, ``extra``
    tables after ``[hal]``.  For a station started in a fresh interpreter (:func:`run_python`)."""
    config = folder / "station.toml"
    config.write_text(
        f'[station]\nid = "S"\ncsms_url = "{UNREACHABLE}"\n{station}'
        f'data_dir = "{folder / "data"}"\npassword = "a-password-0123456"\n'
        "[[evse]]\nid = 1\nconnectors = [1]\n"
        f'[hal]\nbackend = "sim"\n{extra}'
    )
    return config


def run_python(code: str) -> str:
    """What ``code`` prints, run in a fresh interpreter (the test process's ``sys.modules`` would
    hide what a start imports); it must exit with 0."""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


async def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``condition`` until it holds (bounded: the test fails after ``timeout`` seconds)."""
    for _ in range(int(timeout / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"condition not reached within {timeout} s")


def fleet_toml(template_id: str, url: str, data: str | Path) -> str:
    """The template config of a test fleet, as TOML text: stations ``<template_id>-0001``...,
    each with one EVSE and the sim HAL ticking every second."""
    return _FLEET_TEMPLATE.format(id=template_id, url=url, data=data, password=PASSWORD)


def to_toml(data: dict[str, Any]) -> str:
    """A config dict as TOML text (tables, arrays of tables, JSON-compatible scalars)."""
    lines: list[str] = []
    for section, body in data.items():
        if isinstance(body, list):
            for item in body:
                lines.append(f"[[{section}]]")
                lines += [f"{k} = {json.dumps(v)}" for k, v in item.items()]
        else:
            lines.append(f"[{section}]")
            lines += [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in body.items()]
    return "\n".join(lines) + "\n"


def everest(listener: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    """A bus listener that sees each publication as the control API shapes it (EVerest types)."""
    return lambda topic, data: listener(topic, shape(topic, data))


def sim(station: Station) -> SimBackend:
    """The simulated controller of a station on the ``sim`` HAL backend (the test rig's EV)."""
    assert isinstance(station.hal, SimBackend)
    return station.hal


def queued(station: Station) -> int:
    """How many messages the station still holds for the CSMS (``status()``)."""
    return int(station.status()["queued_messages"])


def transaction(station: Station, evse: int = 1) -> dict[str, Any] | None:
    """The running transaction of an EVSE as ``status()`` reports it (None when there is none)."""
    entry = next(e for e in station.status()["evses"] if e["id"] == evse)
    tx: dict[str, Any] | None = entry["transaction"]
    return tx


async def get_variables(
    csms: LocalCSMS, station: str, *items: tuple[str, str] | dict[str, Any]
) -> list[dict[str, Any]]:
    """GetVariables from the CSMS: ``(component, variable)`` pairs or GetVariableDataType dicts;
    returns the GetVariableResults."""
    data = [
        item
        if isinstance(item, dict)
        else {"component": {"name": item[0]}, "variable": {"name": item[1]}}
        for item in items
    ]
    response = await csms.send(station, "GetVariables", {"getVariableData": data})
    results: list[dict[str, Any]] = response["getVariableResult"]
    return results


async def variable(csms: LocalCSMS, station: str, component: str, name: str, **where: Any) -> str:
    """One variable's Actual value as the CSMS reads it (GetVariables); ``where`` may name the
    ``instance`` of the variable and the ``evse``/``connector`` of the component."""
    comp: dict[str, Any] = {"name": component}
    if "evse" in where:
        comp["evse"] = {"id": where["evse"]}
        if "connector" in where:
            comp["evse"]["connectorId"] = where["connector"]
    var: dict[str, Any] = {"name": name}
    if "instance" in where:
        var["instance"] = where["instance"]
    (result,) = await get_variables(csms, station, {"component": comp, "variable": var})
    assert result["attributeStatus"] == "Accepted", result
    return str(result["attributeValue"])


async def set_variable(
    csms: LocalCSMS, station: str, component: str, name: str, value: str
) -> dict[str, Any]:
    """SetVariables from the CSMS of one variable's Actual value; returns its
    SetVariableResult."""
    item = {"component": {"name": component}, "variable": {"name": name}, "attributeValue": value}
    response = await csms.send(station, "SetVariables", {"setVariableData": [item]})
    result: dict[str, Any] = response["setVariableResult"][0]
    return result


async def installed_profiles(csms: LocalCSMS, station: str, request_id: int) -> list[int]:
    """The ids of the charging profiles installed on the station, as GetChargingProfiles reports
    them to the CSMS (every EVSE, every limit source)."""
    status = (
        await csms.send(
            station, "GetChargingProfiles", {"requestId": request_id, "chargingProfile": {}}
        )
    )["status"]
    if status == "NoProfiles":
        return []
    assert status == "Accepted", status

    def reports() -> list[dict[str, Any]]:
        return [
            r
            for r in csms.received("ReportChargingProfiles", station)
            if r["requestId"] == request_id
        ]

    await csms.wait_for(lambda: any(not r.get("tbc", False) for r in reports()))
    return sorted(p["id"] for r in reports() for p in r["chargingProfile"])


class LineClient:
    """A raw JSON-lines client of a control socket."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.publications: list[dict[str, Any]] = []
        self._ids = itertools.count(100)

    @classmethod
    async def open(cls, path: Path) -> LineClient:
        reader, writer = await asyncio.open_unix_connection(str(path))
        return cls(reader, writer)

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def line(self, timeout: float = 5.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.reader.readline(), timeout)
        assert raw, "the server closed the connection"
        message: dict[str, Any] = json.loads(raw)
        return message

    async def reply(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next reply line; publications read on the way are kept in ``publications``."""
        while True:
            message = await self.line(timeout)
            if "topic" in message:
                self.publications.append(message)
            else:
                return message

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        req_id = next(self._ids)
        await self.send_raw(json.dumps({"id": req_id, "method": method, "params": params}).encode())
        await self.send_raw(b"\n")
        reply = await self.reply()
        assert reply["id"] == req_id
        return reply

    async def publication(self, timeout: float = 5.0) -> dict[str, Any]:
        if self.publications:
            return self.publications.pop(0)
        message = await self.line(timeout)
        assert "topic" in message, message
        return message

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()
