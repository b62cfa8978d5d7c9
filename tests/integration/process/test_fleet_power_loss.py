"""A fleet process killed with SIGKILL right after its stations answered the CSMS, then started
again: every write a station answered Accepted is there after the restart, in the fleet's
database and in a station's own file alike, and the database is intact (issue 19: no station of
a fleet loses the guarantees of a single station)."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

from support import REPO, fleet_toml, set_variable, variable

from ocpp_station.csms import LocalCSMS
from ocpp_station.storage import StationStore
from ocpp_station.storage.fleet_db import FLEET_FILE

COUNT = 6


def sid(index: int) -> str:
    return f"PL-{index:04d}"


async def fleet(config: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ocpp_station.cli",
        "fleet",
        "--config",
        str(config),
        "--count",
        str(COUNT),
        "--workers",
        "1",
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stderr=asyncio.subprocess.DEVNULL,
    )


async def set_value(csms: LocalCSMS, station: str, value: int) -> str:
    result = await set_variable(csms, station, "TxCtrlr", "EVConnectionTimeOut", str(value))
    return str(result["attributeStatus"])


async def get_value(csms: LocalCSMS, station: str) -> str:
    return await variable(csms, station, "TxCtrlr", "EVConnectionTimeOut")


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


async def test_a_killed_fleet_keeps_every_answered_write(csms: LocalCSMS, short_tmp: Path) -> None:
    data = short_tmp / "data"
    StationStore.open(data / sid(1)).close()  # one station with a file of its own
    config = short_tmp / "fleet.toml"
    config.write_text(fleet_toml("PL", csms.url, data))
    ids = [sid(i) for i in range(1, COUNT + 1)]

    first = await fleet(config)
    try:
        await csms.wait_for(lambda: sorted(csms.stations()) == ids, timeout=30)
        answers = await asyncio.gather(*(set_value(csms, s, 200 + i) for i, s in enumerate(ids)))
        assert set(answers) == {"Accepted"}
        first.send_signal(signal.SIGKILL)  # no stop, no checkpoint, no close
        assert await asyncio.wait_for(first.wait(), 10) == -signal.SIGKILL
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()
    await csms.wait_for(lambda: not list(csms.stations()), timeout=10)

    again = await fleet(config)
    try:
        await csms.wait_for(lambda: sorted(csms.stations()) == ids, timeout=30)
        values = await asyncio.gather(*(get_value(csms, s) for s in ids))
        assert values == [str(200 + i) for i in range(COUNT)]
        again.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(again.wait(), 30) == 0
    finally:
        if again.returncode is None:
            again.kill()
            await again.wait()
    assert integrity(data / FLEET_FILE) == "ok"
