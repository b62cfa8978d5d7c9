"""The fleet mode (issue 8): many simulated stations in one process, started with a bound on
concurrency and stopped cleanly; ``ocpp-station fleet`` end to end."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from support import REPO, fleet_toml, station_config

from ocpp_station import Station
from ocpp_station.config import StationConfig
from ocpp_station.csms import LocalCSMS
from ocpp_station.fleet import Fleet, run_fleet


def template(url: str, data_dir: Path, **kwargs: Any) -> StationConfig:
    return station_config(url, data_dir, station_id="FL", **kwargs)


async def test_five_stations_boot_and_stop_cleanly(csms: LocalCSMS, short_tmp: Path) -> None:
    csms.policy.boot = [("Accepted", 300)]
    starting = 0
    most = 0

    def factory(config: StationConfig, **kwargs: Any) -> Station:
        station = Station(config, **kwargs)

        def on_event(topic: str, _data: Any) -> None:
            nonlocal starting
            if topic == "boot_notification_response":
                starting -= 1

        original = station.start

        async def start() -> None:
            nonlocal starting, most
            starting += 1
            most = max(most, starting)
            await original()

        station.subscribe(on_event)
        station.start = start  # type: ignore[method-assign]
        return station

    frames: list[tuple[str, str]] = []
    fleet = Fleet(
        template(csms.url, short_tmp),
        5,
        concurrency=2,
        station_factory=factory,
        on_frame=lambda sid, direction, _text: frames.append((sid, direction)),
    )
    report = await fleet.start()
    ids = [f"FL-000{i}" for i in range(1, 6)]
    assert report.started == 5 and report.answered == 5 and report.accepted == 5
    assert report.failed == {}
    assert most <= 2  # never more than `concurrency` stations between start and boot answer
    for sid in ids:
        boot = csms.received("BootNotification", station=sid)
        assert len(boot) == 1 and boot[0]["reason"] == "PowerUp"
        assert not (short_tmp / sid).exists()  # its rows are in the fleet's database
    assert fleet.registrations() == {"Accepted": 5}
    assert await fleet.wait_accepted(timeout=1)
    await csms.wait_for(lambda: len(csms.received("StatusNotification")) >= 5)
    assert {sid for sid, _ in frames} == set(ids)  # the hook saw every station's frames
    assert {d for _, d in frames} == {"in", "out"}

    await fleet.stop()
    await csms.wait_for(lambda: not list(csms.stations()), timeout=5)
    assert fleet.connected() == 0
    assert all(not s.connected for s in fleet.stations)
    await fleet.stop()  # stopping twice is harmless


async def test_station_that_cannot_start_is_skipped(csms: LocalCSMS, short_tmp: Path) -> None:
    (short_tmp / "FL-0002").write_text("not a folder")  # its data_dir cannot be created
    async with Fleet(template(csms.url, short_tmp), 3, concurrency=3) as fleet:
        assert set(fleet.failed) == {"FL-0002"}
        assert "is not a directory" in fleet.failed["FL-0002"]
        await csms.wait_received("BootNotification", count=2)
        assert {
            f.station for f in csms.frames if f.kind == 2 and f.action == "BootNotification"
        } == {
            "FL-0001",
            "FL-0003",
        }
    await csms.wait_for(lambda: not list(csms.stations()), timeout=5)


async def test_run_fleet_until_stopped(
    csms: LocalCSMS, short_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(run_fleet(template(csms.url, short_tmp), 3, stop=stop))
    await csms.wait_received("BootNotification", count=3)
    await csms.wait_for(lambda: len(list(csms.stations())) == 3)
    stop.set()
    assert await asyncio.wait_for(task, 10) == 0
    await csms.wait_for(lambda: not list(csms.stations()), timeout=5)
    assert await run_fleet(template(csms.url, short_tmp), 0) == 2
    assert "count must be between 1 and" in capsys.readouterr().err


async def test_stop_during_boot_storm(csms: LocalCSMS, short_tmp: Path) -> None:
    # No BootNotification is ever answered: each start-up slot stays held (boot_timeout 30 s),
    # so with concurrency 2 only two stations may have connected when the stop comes.
    csms.policy.silent = {"BootNotification"}
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_fleet(template(csms.url, short_tmp), 6, concurrency=2, stop=stop)
    )
    await csms.wait_received("BootNotification", count=2)
    await asyncio.sleep(0.2)  # time for a third station to connect, were the bound broken
    assert len(list(csms.stations())) == 2
    stop.set()
    assert await asyncio.wait_for(task, 10) == 0
    await csms.wait_for(lambda: not list(csms.stations()), timeout=5)
    assert len(csms.received("BootNotification")) == 2


async def cli(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ocpp_station.cli",
        *args,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stderr=asyncio.subprocess.PIPE,
    )


async def test_cli_fleet_stops_cleanly_on_sigterm(csms: LocalCSMS, short_tmp: Path) -> None:
    config = short_tmp / "fleet.toml"
    config.write_text(fleet_toml("CLI", csms.url, short_tmp / "data"))
    proc = await cli("fleet", "--config", str(config), "--count", "4")
    try:
        await csms.wait_received("BootNotification", count=4, timeout=20)
        booted = {f.station for f in csms.frames if f.kind == 2 and f.action == "BootNotification"}
        assert booted == {f"CLI-000{i}" for i in range(1, 5)}
        await csms.wait_for(lambda: len(list(csms.stations())) == 4)
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 20)
        assert proc.returncode == 0, err.decode()
        # Stopped cleanly: every websocket was closed by the stations, none left dangling.
        await csms.wait_for(lambda: not list(csms.stations()), timeout=5)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_cli_fleet_rejects_bad_count(short_tmp: Path) -> None:
    config = short_tmp / "fleet.toml"
    config.write_text(fleet_toml("CLI", "ws://127.0.0.1:9/ocpp", short_tmp))
    proc = await cli("fleet", "--config", str(config), "--count", "0")
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert "count must be between 1 and 100000, got 0" in err.decode()
