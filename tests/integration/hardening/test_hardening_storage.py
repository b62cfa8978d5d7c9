"""Storage trouble, through the data directory (issue 20): a full disk (a tiny tmpfs the test
mounts; without root the pure test on SQLite's ``max_page_count`` stands in) and a data
directory the station cannot write at start."""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import PASSWORD, StationFactory, sim, to_toml

from ocpp_station import Station
from ocpp_station.cli import main
from ocpp_station.clock import iso
from ocpp_station.control.schema import validate_result
from ocpp_station.control.server import call
from ocpp_station.csms import LocalCSMS


def mount_tmpfs(path: Path, options: str) -> bool:
    if os.geteuid() != 0:
        return False
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True
    )
    return done.returncode == 0


def unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.fixture
def tiny_disk(short_tmp: Path) -> Iterator[Path]:
    mount = short_tmp / "disk"
    if not mount_tmpfs(mount, "size=8m,mode=0755"):
        pytest.skip("needs root to mount a tmpfs (the max_page_count unit test covers this)")
    try:
        yield mount
    finally:
        unmount(mount)


def fill(disk: Path) -> Path:
    """Fill ``disk`` to the last byte; returns the filler file (delete it to free the space)."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 1 << 16, 1 << 12, 1 << 8, 1):
            block = b"\0" * size
            while True:
                try:
                    os.write(fd, block)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break
    finally:
        os.close(fd)
    return filler


def profile(limit: float) -> dict[str, Any]:
    return {
        "id": 3,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 3,
                "chargingRateUnit": "A",
                "startSchedule": iso(time.time() - 60),
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
            }
        ],
    }


def power_allowed(station: Station) -> bool:
    return bool(sim(station).status()["evses"][0]["power_allowed"])


async def test_a_full_disk_is_reported_keeps_energy_off_and_recovers_by_itself(
    csms: LocalCSMS, make_station: StationFactory, short_tmp: Path, tiny_disk: Path
) -> None:
    sock = short_tmp / "ctl.sock"
    station = await make_station(data_dir=tiny_disk / "CS001", control=sock)
    cs = station.config.id
    await csms.wait_for(lambda: station.online)
    db = sqlite3.connect(tiny_disk / "CS001" / "station.db")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # no spare room left in the WAL either
    db.close()
    filler = fill(tiny_disk)

    # SetChargingProfile: Rejected with a reason, not a CALLERROR InternalError (K01.FR.27)
    answer = await csms.send(
        cs, "SetChargingProfile", {"evseId": 1, "chargingProfile": profile(10)}
    )
    assert answer["status"] == "Rejected"
    assert answer["statusInfo"]["reasonCode"] == "OutOfStorage"
    status = await call(sock, "status")
    assert status["storage"]["ok"] is False and "full" in status["storage"]["error"]
    assert validate_result("status", status) == []

    # a plug-in and a token: the transaction cannot be recorded, so nothing is sent and no
    # energy flows (and nothing is silently lost: it waits)
    await call(sock, "sim.plug_in", {"evse": 1})
    await call(sock, "sim.present_id_token", {"evse": 1, "id_token": "CARD-1"})
    await csms.wait_received("Authorize")
    with pytest.raises(AssertionError):
        await csms.wait_received("TransactionEvent", timeout=2)
    assert not power_allowed(station)

    filler.unlink()  # space returns: the station goes on by itself
    started = await csms.wait_received("TransactionEvent", timeout=10)
    assert started[0]["eventType"] == "Started"
    assert [e["seqNo"] for e in started] == list(range(len(started)))
    await csms.wait_for(lambda: power_allowed(station), timeout=10)
    await csms.wait_for(lambda: station.status()["storage"] == {"ok": True}, timeout=10)
    again = await csms.send(cs, "SetChargingProfile", {"evseId": 1, "chargingProfile": profile(10)})
    assert again == {"status": "Accepted"}


@contextlib.contextmanager
def unwritable(directory: Path) -> Iterator[str]:
    """Make ``directory`` (holding a station's data) unwritable: a tmpfs remounted read-only
    as root, else mode 0500.  Yields the words the error must contain."""
    if os.geteuid() == 0:
        subprocess.run(["mount", "-o", "remount,ro", str(directory.parent)], check=True)
        try:
            yield "Read-only file system"
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(directory.parent)], check=True)
    else:
        directory.chmod(0o500)
        try:
            yield "Permission denied"
        finally:
            directory.chmod(0o700)


def write_config(path: Path, data_dir: Path, **extra: Any) -> Path:
    config = {
        "station": {
            "id": "CS001",
            "csms_url": "ws://127.0.0.1:9/ocpp",
            "data_dir": str(data_dir),
            "vendor": "V",
            "model": "M",
            "password": PASSWORD,
        },
        "evse": [{"id": 1, "connectors": [1]}],
        "hal": {"backend": "sim"},
        **extra,
    }
    path.write_text(to_toml(config))
    return path


def test_an_unwritable_data_directory_ends_the_start_with_one_line(
    short_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    disk = short_tmp / "ro"
    if os.geteuid() == 0 and not mount_tmpfs(disk, "size=8m"):
        pytest.skip("cannot mount a tmpfs")
    try:
        data = disk / "data"
        config = write_config(short_tmp / "station.toml", data)
        with contextlib.suppress(Exception):  # a first run makes the station's files
            data.mkdir(parents=True)
        with unwritable(data) as words:
            code = main(["run", "--config", str(config)])
        err = capsys.readouterr().err
    finally:
        if os.geteuid() == 0:
            unmount(disk)
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert str(data) in err and words in err


@pytest.mark.parametrize("what", ["file", "directory"])
def test_a_taken_socket_path_ends_the_start_with_one_line(
    short_tmp: Path, capsys: pytest.CaptureFixture[str], what: str
) -> None:
    sock = short_tmp / "ctl.sock"
    sock.write_text("x") if what == "file" else sock.mkdir()
    config = write_config(
        short_tmp / "station.toml", short_tmp / "data", control={"socket": str(sock)}
    )
    assert main(["run", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and str(sock) in err
