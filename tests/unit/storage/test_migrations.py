"""The migrations of station.db run in one transaction: a new file costs one durable commit, and a
migration that fails leaves the file at the version it had (ocpp_station/storage/migrations.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ocpp_station.storage import migrations
from ocpp_station.storage.migrations import MIGRATIONS, SCHEMA_VERSION, Migration, migrate


def _open(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def test_a_new_file_is_migrated_in_one_commit(tmp_path: Path) -> None:
    conn = _open(tmp_path / "station.db")
    commits: list[str] = []
    conn.set_trace_callback(lambda s: commits.append(s) if s.strip() == "COMMIT" else None)
    assert migrate(conn) == 0
    assert commits == ["COMMIT"]
    assert migrations.schema_version(conn) == SCHEMA_VERSION
    assert migrate(conn) == SCHEMA_VERSION  # nothing left to do: no transaction at all
    assert commits == ["COMMIT"]
    conn.close()


def test_a_failing_migration_leaves_the_version_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "station.db"
    conn = _open(path)
    for statement in MIGRATIONS[0].statements:  # a file at version 1
        conn.execute(statement)
    conn.execute("PRAGMA user_version=1")
    broken = Migration(SCHEMA_VERSION + 1, "broken", ("CREATE TABLE t (x)", "NOT SQL"))
    monkeypatch.setattr(migrations, "MIGRATIONS", [*MIGRATIONS, broken])
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn)
    conn.close()
    conn = _open(path)
    assert migrations.schema_version(conn) == 1  # none of versions 2.. was kept half-way
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "t" not in tables and "dead_letters" not in tables
    conn.close()


def test_a_file_another_process_migrated_meanwhile_is_left_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two processes of a fleet open a new fleet.db at once: both read version 0, one migrates
    # first; the other reads the version again under the write lock and has nothing to do.
    path = tmp_path / "fleet.db"
    first, second = _open(path), _open(path)
    real = migrations.schema_version
    reads: list[int] = []

    def stale_once(conn: sqlite3.Connection) -> int:
        reads.append(1)
        return 0 if len(reads) == 1 else real(conn)

    assert migrate(first) == 0
    monkeypatch.setattr(migrations, "schema_version", stale_once)
    assert migrate(second) == 0  # (what it read before the lock)
    assert real(second) == SCHEMA_VERSION and len(reads) == 2
    assert second.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    first.close()
    second.close()
