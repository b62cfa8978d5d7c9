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

import pytest

from device_model import DeviceModel
from ocpp_station import settings
from ocpp_station.config import config_from_dict
from ocpp_station.storage import SCHEMA_VERSION, STORE_FILE, StationStore
from ocpp_station.storage.connection import connect
from ocpp_station.storage.migrations import migrate
from ocpp_station.storage.store import store_image


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


def seeded(data_dir: Path) -> StationStore:
    cfg = config_from_dict(
        {
            "station": {
                "id": "CS-IMAGE",
                "csms_url": "ws://127.0.0.1:9/ocpp",
                "data_dir": str(data_dir),
                "password": "image-test-password-0123",
            },
            "evse": [{"id": 1, "connectors": [1]}, {"id": 2, "connectors": [1]}],
        }
    )
    return StationStore.open(
        data_dir,
        initialise=lambda s: DeviceModel.open(s.connection, cfg.evse_map, settings.seed(cfg)),
    )


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
    (tmp_path / "image.db").write_bytes(store_image())
    assert dump(tmp_path / "image.db") == dump(tmp_path / "old" / STORE_FILE)
    assert dump(tmp_path / "image.db")[1] == SCHEMA_VERSION
    image = store_image()
    assert image[:16] == b"SQLite format 3\x00"
    assert image[18:20] == b"\x02\x02"  # WAL mode in the header: no journal-mode switch


def test_a_new_store_from_the_image_equals_one_made_by_the_migrations(tmp_path: Path) -> None:
    seeded(tmp_path / "new").close()
    migrated(tmp_path / "old")
    seeded(tmp_path / "old").close()  # finds the migrated file: only the seed is written
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
