"""A new ``station.db`` is a copy of a prebuilt image (issue 19: a fleet's boot storm).

The image must be a valid store in every respect: the same schema, the same ``user_version``,
the same rows (with the device model's seed on top) as a new file brought up by the migrations,
already in WAL mode, private (0600), and never written over an existing ``station.db``.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from device_model import DeviceModel
from ocpp_station import settings
from ocpp_station.config import StationConfig, config_from_dict
from ocpp_station.storage import SCHEMA_VERSION, STORE_FILE, StationStore
from ocpp_station.storage import image as image_module
from ocpp_station.storage.connection import connect
from ocpp_station.storage.image import store_image
from ocpp_station.storage.migrations import migrate


@pytest.fixture(autouse=True)
def no_images_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no image built in the process (the first station makes one)."""
    monkeypatch.setattr(image_module, "_images", {})


def dump(path: Path) -> tuple[list[tuple[str, str, str]], int, dict[str, list[tuple[object, ...]]]]:
    """Schema SQL, user_version and the contents of every table of the store at ``path``."""
    with sqlite3.connect(path) as conn:
        schema = conn.execute(
            "SELECT type, name, COALESCE(sql, '') FROM sqlite_master ORDER BY type, name"
        ).fetchall()
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        contents = {
            name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
            for (kind, name, _sql) in schema
            if kind == "table"
        }
    return schema, version, contents


def station_config(data_dir: Path, serial: str = "SN-1", heartbeat: int = 300) -> StationConfig:
    return config_from_dict(
        {
            "station": {
                "id": "CS-IMAGE",
                "csms_url": "ws://127.0.0.1:9/ocpp",
                "data_dir": str(data_dir),
                "password": "image-test-password-0123",
                "serial_number": serial,
            },
            "evse": [{"id": 1, "connectors": [1]}, {"id": 2, "connectors": [1]}],
            "device_model": {"OCPPCommCtrlr.HeartbeatInterval": heartbeat},
        }
    )


def seeded(data_dir: Path, **config: Any) -> StationStore:
    """The store of a station's start: a new one is a copy of the image of its layout."""
    cfg = station_config(data_dir, **config)
    plan = DeviceModel.plan(cfg.evse_map, settings.seed(cfg))
    return StationStore.open(
        data_dir,
        image_rows=plan.rows,
        initialise=lambda s: DeviceModel.open_plan(s.connection, plan, image=s.image),
    )


def seeded_by_migrations(data_dir: Path, **config: Any) -> None:
    """The same store made the way it was before the images: migrations, then the seed."""
    migrated(data_dir)
    cfg = station_config(data_dir, **config)
    StationStore.open(
        data_dir,
        initialise=lambda s: DeviceModel.open(s.connection, cfg.evse_map, settings.seed(cfg)),
    ).close()


def values(path: Path) -> dict[tuple[str, str], str | None]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT component, variable, value FROM attribute_value").fetchall()
    return {(component, variable): value for component, variable, value in rows}


def migrated(data_dir: Path) -> None:
    """A new file brought up the way a store was before the image: connect, then migrate."""
    data_dir.mkdir()
    conn = connect(data_dir / STORE_FILE)
    try:
        migrate(conn, STORE_FILE)
    finally:
        conn.close()


def test_the_image_is_the_migrated_empty_store(tmp_path: Path) -> None:
    migrated(tmp_path / "old")
    (tmp_path / "image.db").write_bytes(store_image()[1])
    assert dump(tmp_path / "image.db") == dump(tmp_path / "old" / STORE_FILE)
    assert dump(tmp_path / "image.db")[1] == SCHEMA_VERSION
    rows, image = store_image()
    assert rows == {}
    assert image[:16] == b"SQLite format 3\x00"
    assert image[18:20] == b"\x02\x02"  # WAL mode in the header: no journal-mode switch


def test_a_new_store_from_the_image_equals_one_made_by_the_migrations(tmp_path: Path) -> None:
    seeded(tmp_path / "new").close()
    seeded_by_migrations(tmp_path / "old")
    new, old = dump(tmp_path / "new" / STORE_FILE), dump(tmp_path / "old" / STORE_FILE)
    assert new == old
    assert new[2]["attribute_value"]  # the device model's seed is there
    path = tmp_path / "new" / STORE_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]  # none left
    store = StationStore.open(tmp_path / "new")
    try:
        assert store.connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert store.connection.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
        assert store.connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        store.close()


def test_an_existing_store_is_never_replaced_by_the_image(tmp_path: Path) -> None:
    store = StationStore.open(tmp_path)
    store.state.save("kept", {"value": 1})
    store.close()
    before = dump(tmp_path / STORE_FILE)
    StationStore.open(tmp_path).close()
    assert dump(tmp_path / STORE_FILE) == before


def test_a_file_system_without_hard_links_gets_the_image_by_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: object, dst: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    store = StationStore.open(tmp_path)
    try:
        assert store.schema_version == SCHEMA_VERSION
        assert store.connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        store.close()
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_stations_of_one_layout_share_an_image_and_keep_their_own_values(
    tmp_path: Path,
) -> None:
    """The image holds the first station's rows; the next one changes those that differ."""
    seeded(tmp_path / "first", serial="SN-1", heartbeat=300).close()
    seeded(tmp_path / "second", serial="SN-2", heartbeat=60).close()
    seeded_by_migrations(tmp_path / "reference", serial="SN-2", heartbeat=60)
    second = dump(tmp_path / "second" / STORE_FILE)
    assert second == dump(tmp_path / "reference" / STORE_FILE)
    assert values(tmp_path / "second" / STORE_FILE)[("OCPPCommCtrlr", "HeartbeatInterval")] == "60"
    assert values(tmp_path / "first" / STORE_FILE)[("OCPPCommCtrlr", "HeartbeatInterval")] == "300"


def test_a_copy_cut_off_before_its_first_write_is_still_an_image(tmp_path: Path) -> None:
    """A power cut between the copy and the device model's first write: the copy holds another
    station's rows, which the next start must not take for this station's stored values."""
    seeded(tmp_path / "first", heartbeat=300).close()
    cfg = station_config(tmp_path / "second", heartbeat=60)
    plan = DeviceModel.plan(cfg.evse_map, settings.seed(cfg))

    def cut(store: StationStore) -> None:
        raise KeyboardInterrupt  # the process dies before the device model writes

    with pytest.raises(KeyboardInterrupt):
        StationStore.open(tmp_path / "second", image_rows=plan.rows, initialise=cut)
    copied = values(tmp_path / "second" / STORE_FILE)
    assert copied[("OCPPCommCtrlr", "HeartbeatInterval")] == "300"  # the first's, as copied
    store = StationStore.open(tmp_path / "second")  # the next start: no longer a new file
    try:
        dm = DeviceModel.open(store.connection, cfg.evse_map, settings.seed(cfg))
        assert dm.get("OCPPCommCtrlr", "HeartbeatInterval") == "60"
    finally:
        store.close()
    seeded_by_migrations(tmp_path / "reference", heartbeat=60)
    assert dump(tmp_path / "second" / STORE_FILE) == dump(tmp_path / "reference" / STORE_FILE)


@pytest.mark.parametrize("pooled", [False, True])
def test_a_copy_opens_in_wal_and_is_full_for_its_first_synced_commit(
    tmp_path: Path, pooled: bool
) -> None:
    """The copy opens without a journal-mode statement (its file is in WAL mode already) and
    writes its first rows unsynced: when ``open`` returns it is WAL and synchronous=NORMAL
    (a start's first commits are unsynced ones), and FULL before its first synced commit, as a
    store brought up by the migrations."""
    first = StationStore.open(tmp_path / "a", pooled=pooled)
    first.close()  # (the image is built now)
    store = StationStore.open(tmp_path / "b", pooled=pooled)
    try:
        assert store.fresh
        conn = store.connection
        conn = getattr(conn, "_conn", None) or conn  # (a pooled handle: its open connection)
        assert sqlite3.Connection.execute(conn, "PRAGMA journal_mode").fetchone() == ("wal",)
        assert sqlite3.Connection.execute(conn, "PRAGMA synchronous").fetchone() == (1,)
        store.state.save("synced", {"n": 1})
        assert sqlite3.Connection.execute(conn, "PRAGMA synchronous").fetchone() == (2,)
    finally:
        store.close()


def test_prepare_makes_the_files_and_open_prepared_the_connection(tmp_path: Path) -> None:
    """The file half (a worker thread's) makes ``station.db`` and an empty ``-wal`` (0600), and
    opens nothing; the connection half writes its first frames into that ``-wal``."""
    cfg = station_config(tmp_path / "s")
    plan = DeviceModel.plan(cfg.evse_map, settings.seed(cfg))
    files = StationStore.prepare(tmp_path / "s", image_rows=plan.rows)
    assert files.fresh and files.made
    wal = tmp_path / "s" / f"{STORE_FILE}-wal"
    assert wal.stat().st_size == 0
    assert stat.S_IMODE(wal.stat().st_mode) == 0o600
    store = StationStore.open_prepared(
        files, initialise=lambda s: DeviceModel.open_plan(s.connection, plan, image=s.image)
    )
    try:
        assert store.fresh
        store.state.save("kept", {"value": 1})
        assert wal.stat().st_size > 0  # SQLite took the empty file as its WAL
    finally:
        store.close()
    reopened = StationStore.open(tmp_path / "s")
    try:
        assert not reopened.fresh
        assert reopened.state.load("kept") == {"value": 1}
        assert reopened.connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        reopened.close()
    seeded_by_migrations(tmp_path / "reference")
    assert (
        dump(tmp_path / "s" / STORE_FILE)[2]["attribute_value"]
        == (dump(tmp_path / "reference" / STORE_FILE)[2]["attribute_value"])
    )


def test_prepare_leaves_an_existing_store_and_its_wal_alone(tmp_path: Path) -> None:
    store = StationStore.open(tmp_path, pooled=True)  # (exclusive: its -wal stays until close)
    store.state.save("kept", {"value": 2})
    store.close()
    assert not (tmp_path / f"{STORE_FILE}-wal").exists()  # the close checkpointed it away
    files = StationStore.prepare(tmp_path)
    assert not files.fresh and not files.made
    assert not (tmp_path / f"{STORE_FILE}-wal").exists()  # none made for an existing store
    reopened = StationStore.open_prepared(files)
    try:
        assert reopened.state.load("kept") == {"value": 2}
    finally:
        reopened.close()


def test_an_empty_wal_file_already_there_is_left_alone(tmp_path: Path) -> None:
    """An empty ``-wal`` already there when the copy is made (``station.db`` deleted by hand,
    its WAL left behind) is not made again, and SQLite takes it as the copy's empty WAL."""
    tmp_path.joinpath("s").mkdir()
    (tmp_path / "s" / f"{STORE_FILE}-wal").write_bytes(b"")
    store = StationStore.open(tmp_path / "s")
    try:
        assert store.fresh
        store.state.save("kept", {"value": 3})
        assert store.state.load("kept") == {"value": 3}
    finally:
        store.close()
