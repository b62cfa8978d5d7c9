"""The status page over real HTTP and websockets: ``[http] listen`` for a station, ``--http`` for a
fleet; ``/status.json`` is the control API's ``status`` result."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from support import PASSWORD, StationFactory, sim, station_config, to_toml
from websockets.asyncio.client import connect

from ocpp_station import Station
from ocpp_station.cli import main as cli_main
from ocpp_station.config import ConfigError, config_from_dict
from ocpp_station.control.server import call
from ocpp_station.csms import LocalCSMS
from ocpp_station.fleet import run_fleet


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


async def fetch(url: str) -> tuple[int, str, str]:
    return await asyncio.to_thread(get, url)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_page_is_off_by_default(make_station: StationFactory) -> None:
    station = await make_station()
    assert station.status_page is None and station.recent_frames is None


async def test_station_page_status_json_and_live_frames(csms: LocalCSMS, short_tmp: Path) -> None:
    config = station_config(csms.url, short_tmp / "d", station_id="PAGE2", control=short_tmp / "c")
    station = Station(dataclasses.replace(config, http_listen="127.0.0.1:0"))
    await station.start()
    try:
        await check_station_page(csms, station, short_tmp / "c")
    finally:
        await station.stop()
    assert station.status_page is None


async def check_station_page(csms: LocalCSMS, station: Station, control: Path) -> None:
    await csms.wait_for(lambda: station.online)
    await csms.wait_received("StatusNotification", station="PAGE2")
    # the start's StartupOfTheDevice (A04) leaves the queue: the two reads below see one state
    await csms.wait_received("SecurityEventNotification", station="PAGE2")
    await csms.wait_for(lambda: station.status()["queued_messages"] == 0)
    assert station.status_page is not None
    url = station.status_page.url

    status, kind, body = await fetch(url + "status.json")
    assert status == 200 and kind == "application/json"
    assert json.loads(body) == await call(control, "status")

    status, kind, body = await fetch(url)
    assert status == 200 and kind.startswith("text/html") and "new WebSocket" in body
    assert (await fetch(url + "nothing-here"))[0] == 404

    # a CSMS sets a new Basic-auth password (A01): the page shows the frame, masked
    await csms.send(
        "PAGE2",
        "SetVariables",
        {
            "setVariableData": [
                {
                    "attributeValue": "brand-new-password-0123",
                    "component": {"name": "SecurityCtrlr"},
                    "variable": {"name": "BasicAuthPassword"},
                }
            ]
        },
    )
    async with connect(url.replace("http://", "ws://") + "ws") as ws:
        snap = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert snap["kind"] == "station" and snap["status"]["id"] == "PAGE2"
        frames = snap["frames"]
        assert ("out", "CALL", "BootNotification") in [
            (f["dir"], f.get("type"), f.get("action")) for f in frames
        ]
        assert ("in", "CALLRESULT", "BootNotification") in [
            (f["dir"], f.get("type"), f.get("action")) for f in frames
        ]
        assert any(f.get("action") == "SetVariables" for f in frames)
        assert "brand-new-password-0123" not in json.dumps(snap)
        assert PASSWORD not in json.dumps(snap)
        # a publication (a plug-in) pushes a fresh snapshot before the next 1 s tick
        sim(station).plug_in(1, 1)
        while True:
            snap = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if snap["status"]["evses"][0]["connectors"][0]["status"] == "Occupied":
                break


async def test_fleet_page(csms: LocalCSMS, short_tmp: Path) -> None:
    template = station_config(csms.url, short_tmp / "fleet", station_id="FL")
    port = free_port()
    stop = asyncio.Event()
    runner = asyncio.create_task(run_fleet(template, 3, stop=stop, http=f"127.0.0.1:{port}"))
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(200):
            if len([s for s in csms.stations() if s.startswith("FL-")]) == 3:
                break
            await asyncio.sleep(0.05)
        await csms.wait_for(lambda: len(csms.received("BootNotification")) >= 3)
        status, _, body = await fetch(url + "status.json")
        assert status == 200
        data = json.loads(body)
        assert data["fleet"]["count"] == 3
        assert sorted(s["id"] for s in data["stations"]) == ["FL-0001", "FL-0002", "FL-0003"]
        async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
            await ws.send(json.dumps({"query": "fl-0002"}))
            snap: dict[str, Any] = {}
            for _ in range(50):
                snap = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if snap.get("query") == "fl-0002" and snap["fleet"]["connected"] == 3:
                    break
            assert snap["matched"] == 1 and snap["rows"][0]["id"] == "FL-0002"
            assert snap["fleet"]["registration"] == {"Accepted": 3}
            assert snap["fleet"]["messages_total"]["out"] >= 3
            assert snap["fleet"]["round_trip_ms"]["samples"] >= 3
    finally:
        stop.set()
        assert await asyncio.wait_for(runner, 20) == 0


def test_http_config_keys() -> None:
    base: dict[str, Any] = {
        "station": {"id": "CS1", "csms_url": "ws://x", "password": PASSWORD},
        "evse": [{"id": 1, "connectors": [1]}],
    }
    assert config_from_dict(base).http_listen is None
    assert config_from_dict(base).log_format == "text"
    ok = config_from_dict({**base, "http": {"listen": "[::1]:8080"}})
    assert ok.http_listen == "[::1]:8080"
    json_log = {**base, "station": {**base["station"], "log_format": "json"}}
    assert config_from_dict(json_log).log_format == "json"
    for bad, why in [
        ({"http": {}}, "missing required key: 'listen'"),
        ({"http": {"listen": "8080"}}, "does not match"),
        ({"http": {"listen": "0.0.0.0:99999"}}, "port must be 0..65535"),
        ({"http": {"listen": "127.0.0.1:80", "tls": True}}, "unknown key"),
        ({"station": {**base["station"], "log_format": "xml"}}, "is not one of"),
    ]:
        with pytest.raises(ConfigError) as err:
            config_from_dict({**base, **bad})
        assert why in str(err.value), err.value


def test_cli_http_errors(
    short_tmp: Path, capsys: pytest.CaptureFixture[str], root_logging_restored: None
) -> None:
    config = {
        "station": {"id": "CS1", "csms_url": "ws://127.0.0.1:1/ocpp", "password": PASSWORD},
        "evse": [{"id": 1, "connectors": [1]}],
    }
    path = short_tmp / "s.toml"
    path.write_text(to_toml(config))
    assert cli_main(["fleet", "--config", str(path), "--count", "2", "--http", "nope"]) == 2
    assert "--http" in capsys.readouterr().err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config["station"]["data_dir"] = str(short_tmp / "d")
        path.write_text(to_toml({**config, "http": {"listen": f"127.0.0.1:{port}"}}))
        assert cli_main(["run", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert "[http] listen" in err and "in use" in err.lower()
