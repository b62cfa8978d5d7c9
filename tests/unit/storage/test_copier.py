"""New stores' files (``storage.newfiles``) and the fleet's helper process that makes them
(``storage.copier``): a real child process, real files, and the station's fallback to its own
worker thread whenever the helper did not make the store."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sqlite3
import stat
from pathlib import Path

import pytest
from support import station_config

from ocpp_station.clock import SystemClock
from ocpp_station.config import StationConfig
from ocpp_station.station_stores import close_stores, open_stores
from ocpp_station.storage import copier
from ocpp_station.storage.copier import StoreCopier
from ocpp_station.storage.image import store_image
from ocpp_station.storage.newfiles import copy_image, make_store, serve

LOG = logging.getLogger("test")
UNREACHABLE = "ws://127.0.0.1:9/ocpp"  # (the stores alone: nothing connects)
IMAGE = b"SQLite format 3\x00" + bytes(4080)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def config(data_dir: Path) -> StationConfig:
    return station_config(UNREACHABLE, data_dir, station_id="CS-COPIER")


def test_a_new_store_is_a_private_directory_with_the_image_and_an_empty_wal(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "fleet" / "ST-1"  # (its parent is made too)
    store = directory / "station.db"
    assert make_store(directory, store, IMAGE)
    assert store.read_bytes() == IMAGE
    assert (mode(directory), mode(store)) == (0o700, 0o600)
    wal = directory / "station.db-wal"
    assert wal.stat().st_size == 0 and mode(wal) == 0o600
    assert sorted(p.name for p in directory.iterdir()) == ["station.db", "station.db-wal"]


def test_an_existing_directory_or_store_is_left_alone(tmp_path: Path) -> None:
    directory = tmp_path / "ST-1"
    directory.mkdir()
    (directory / "keep").write_text("mine")
    assert not make_store(directory, directory / "station.db", IMAGE)
    assert sorted(p.name for p in directory.iterdir()) == ["keep"]
    store = directory / "station.db"
    store.write_bytes(b"theirs")
    assert not copy_image(store, IMAGE)
    assert store.read_bytes() == b"theirs"
    assert sorted(p.name for p in directory.iterdir()) == ["keep", "station.db"]  # no temp file


def test_the_helper_loop_answers_each_request_in_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = tmp_path / "image.db"
    image.write_bytes(IMAGE)
    (tmp_path / "there").mkdir()

    def request(ident: int, name: str, source: Path = image) -> str:
        where = tmp_path / name
        paths = {"dir": str(where), "store": str(where / "station.db"), "image": str(source)}
        return json.dumps({"id": ident, **paths})

    lines = [
        request(1, "a"),
        "not json at all",
        request(2, "there"),
        request(3, "b", tmp_path / "no-such-image"),
        '{"id": 4}',
    ]
    out = io.StringIO()
    serve(io.StringIO("\n".join(lines) + "\n"), out)
    assert out.getvalue().splitlines() == [
        '{"ready": true}',
        '{"id": 1, "made": true}',
        '{"id": 2, "made": false}',  # the directory was there
        '{"id": 3, "made": false}',  # no image to copy
        '{"id": 4, "made": false}',  # an incomplete request
    ]
    assert "a bad request: 'not json at all'" in capsys.readouterr().err
    assert (tmp_path / "a" / "station.db").read_bytes() == IMAGE
    assert not (tmp_path / "b").exists()


async def test_the_helper_process_makes_a_store_the_station_opens(tmp_path: Path) -> None:
    copier = await StoreCopier.start()
    assert copier is not None and copier.running
    clock = SystemClock()
    cfg = config(tmp_path / "ST-1")
    try:
        store, dm, _stores = await open_stores(
            cfg, log=LOG, clock=clock, base_clock=clock, pooled=False, copier=copier
        )
        try:
            assert copier.made == 1
            assert store.fresh and store.image is not None
            assert dm.set("OCPPCommCtrlr", "HeartbeatInterval", 77) == "Accepted"
        finally:
            close_stores((store, dm))
        # The same directory again: there now, so the station opens it itself, and it holds
        # what was written.
        store, dm, _stores = await open_stores(
            cfg, log=LOG, clock=clock, base_clock=clock, pooled=False, copier=copier
        )
        try:
            assert copier.made == 1 and not store.fresh
            assert dm.get("OCPPCommCtrlr", "HeartbeatInterval") == "77"
        finally:
            close_stores((store, dm))
    finally:
        await copier.close()
    assert not copier.running
    with sqlite3.connect(tmp_path / "ST-1" / "station.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


async def test_the_copy_is_this_process_image(tmp_path: Path) -> None:
    copier = await StoreCopier.start()
    assert copier is not None
    try:
        rows = [(("OCPPCommCtrlr", "", 0, 0, "HeartbeatInterval", "", "Actual"), "300")]
        held = await copier.new_store(tmp_path / "d", tmp_path / "d" / "station.db", rows)
        assert held == dict(rows)
        assert (tmp_path / "d" / "station.db").read_bytes() == store_image(rows)[1]
    finally:
        await copier.close()


async def test_a_helper_that_died_leaves_the_stations_to_their_threads(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    copier = await StoreCopier.start()
    assert copier is not None
    copier._process.kill()
    await copier._process.wait()
    for _ in range(100):
        if not copier.running:
            break
        await asyncio.sleep(0.01)
    assert not copier.running
    assert "the store helper process ended" in caplog.text
    clock = SystemClock()
    store, dm, _stores = await open_stores(
        config(tmp_path / "ST-2"),
        log=LOG,
        clock=clock,
        base_clock=clock,
        pooled=False,
        copier=copier,
    )
    try:
        assert store.fresh and copier.made == 0  # made by the station's own thread
    finally:
        close_stores((store, dm))
        await copier.close()


async def test_a_helper_that_cannot_start_is_no_helper(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("sys.executable", "/nonexistent/python")
    assert await StoreCopier.start() is None
    assert "no store helper process" in caplog.text


@pytest.mark.parametrize("first_words", ["print('hello', flush=True)", "pass"])
async def test_a_helper_that_does_not_say_ready_is_stopped(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    first_words: str,
) -> None:
    script = tmp_path / "not_a_helper.py"  # says something else, or nothing in time
    script.write_text(f"{first_words}\nimport time\ntime.sleep(30)\n")
    monkeypatch.setattr(copier.newfiles, "__file__", str(script))
    monkeypatch.setattr(copier, "READY_TIMEOUT", 0.5)
    assert await StoreCopier.start() is None
    assert "the store helper process did not start" in caplog.text


def _helpers_running() -> list[str]:
    """The command lines of this process's children that run the store helper."""
    import os

    found = []
    for tid in os.listdir("/proc/self/task"):
        try:
            children = Path(f"/proc/self/task/{tid}/children").read_text().split()
        except OSError:
            continue
        for pid in children:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "newfiles.py" in cmdline:
                found.append(cmdline)
    return found


async def test_a_fleet_whose_stations_cannot_be_built_ends_its_store_helper(
    tmp_path: Path,
) -> None:
    """The helper boots while the stations are built; a build that fails ends it too."""
    from ocpp_station.fleet import Fleet

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("no station today")

    fleet = Fleet(config(tmp_path / "fleet"), 3, station_factory=broken)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="no station today"):
        await fleet.start()
    assert fleet.pool.copier is None
    assert _helpers_running() == []
