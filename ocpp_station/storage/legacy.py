"""Upgrade of a data directory written by release 0.1.0 (three SQLite files) to ``station.db``.

0.1.0 kept ``device_model.db`` (``attribute_value``), ``queue.db`` (``messages``, ``state`` and the
``sqlite_sequence`` of the message ids) and ``profiles.db`` (``charging_profiles``).  When a store
is opened where there is no ``station.db`` but any of these files, :func:`import_legacy` copies
every table of each into a new file, then the schema migrations run on it:

1. each old file is opened normally once, so SQLite replays its ``-wal`` (or rolls back a hot
   journal) and checkpoints it: what 0.1.0 committed is in the main file before it is read;
2. ``station.db.tmp`` is written: each old table created from its own DDL (``sqlite_master``),
   filled by ``INSERT ... SELECT`` through ``ATTACH``, one transaction per old file; the message
   id sequence is copied too, so ids keep growing;
3. the new file is fsynced, renamed to ``station.db`` and the directory fsynced.

A crash before the rename leaves the old files as they were (the half-written ``.tmp`` is removed
and the import runs again at the next start).  Only after the rename does :func:`retire` rename
the old files ``<name>.migrated`` (kept, never deleted; their ``-wal``/``-shm`` follow them).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

from ocpp_station.files import fsync_dir, fsync_file
from ocpp_station.storage.connection import StorageError, transaction
from ocpp_station.storage.migrations import migrate

# The files of 0.1.0 and the highest ``user_version`` 0.1.0 wrote into each.
LEGACY_FILES: tuple[tuple[str, int], ...] = (
    ("device_model.db", 1),
    ("queue.db", 0),
    ("profiles.db", 0),
)
MIGRATED = ".migrated"
_COMPANIONS = ("-wal", "-shm", "-journal")


def legacy_files(data_dir: Path) -> list[Path]:
    """The 0.1.0 database files present in ``data_dir``."""
    return [data_dir / name for name, _ in LEGACY_FILES if (data_dir / name).is_file()]


def import_legacy(data_dir: Path, target: Path, log: logging.Logger) -> None:
    """Write ``target`` from the 0.1.0 files of ``data_dir`` (see the module docstring)."""
    found = legacy_files(data_dir)
    tmp = target.with_name(target.name + ".tmp")
    _remove_with_companions(tmp)  # left by an import that did not finish
    known = dict(LEGACY_FILES)
    for path in found:
        _recover(path, known[path.name])
    conn = sqlite3.connect(os.fspath(tmp), isolation_level=None)
    try:
        # a rollback journal, not WAL: the finished file is self-contained when it is renamed
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("PRAGMA synchronous=FULL")
        copied: set[str] = set()
        for path in found:
            _copy(conn, path, copied)
        migrate(conn, tmp.name)
    finally:
        conn.close()
    fsync_file(tmp)
    os.replace(tmp, target)
    fsync_dir(data_dir)
    log.info("imported %s into %s", ", ".join(p.name for p in found) or "nothing", target.name)


def retire(data_dir: Path, log: logging.Logger) -> None:
    """Rename the 0.1.0 files of ``data_dir`` to ``<name>.migrated`` (their data is in
    ``station.db``); also finishes an import interrupted between its rename and this step."""
    found = legacy_files(data_dir)
    for path in found:
        kept = _free_name(path.with_name(path.name + MIGRATED))
        for suffix in _COMPANIONS:
            companion = path.with_name(path.name + suffix)
            if companion.exists():
                os.replace(companion, kept.with_name(kept.name + suffix))
        os.replace(path, kept)
        log.info("%s was imported into station.db and is kept as %s", path.name, kept.name)
    if found:
        fsync_dir(data_dir)


def _recover(path: Path, known_version: int) -> None:
    """Open ``path`` normally once: SQLite replays its WAL or hot journal; checkpoint the WAL."""
    try:
        conn = sqlite3.connect(os.fspath(path), isolation_level=None)
        try:
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{path.name}: cannot read the 0.1.0 database: {exc}") from exc
    if version > known_version:
        raise StorageError(
            f"{path.name}: schema version {version} was not written by release 0.1.0 "
            f"(it wrote {known_version}); not imported"
        )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _copy(conn: sqlite3.Connection, path: Path, copied: set[str]) -> None:
    """Copy every table (with its data), index, trigger and view of ``path`` into ``conn``."""
    conn.execute("ATTACH DATABASE ? AS old", (os.fspath(path),))
    try:
        with transaction(conn):
            objects = conn.execute(
                "SELECT type, name, sql FROM old.sqlite_master WHERE sql IS NOT NULL "
                "ORDER BY type != 'table', rowid"
            ).fetchall()
            for kind, name, sql in objects:
                if kind == "table" and name.startswith("sqlite_"):
                    continue  # sqlite_sequence: created with the first AUTOINCREMENT table
                if kind == "table":
                    if name in copied:
                        raise StorageError(f"{path.name}: table {name} is in two old files")
                    conn.execute(sql)  # the old DDL, unqualified: creates the table in main
                    table = _quote(name)
                    conn.execute(f"INSERT INTO main.{table} SELECT * FROM old.{table}")
                    copied.add(name)
                else:
                    conn.execute(sql)
            has_sequence = conn.execute(
                "SELECT 1 FROM old.sqlite_master WHERE name = 'sqlite_sequence'"
            ).fetchone()
            if has_sequence:
                # the ids of acknowledged messages are gone, not reusable: keep the high mark
                conn.execute(
                    "DELETE FROM main.sqlite_sequence "
                    "WHERE name IN (SELECT name FROM old.sqlite_sequence)"
                )
                conn.execute(
                    "INSERT INTO main.sqlite_sequence (name, seq) "
                    "SELECT name, seq FROM old.sqlite_sequence"
                )
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{path.name}: import failed: {exc}") from exc
    finally:
        conn.execute("DETACH DATABASE old")


def _free_name(path: Path) -> Path:
    """``path``, or ``path.1``, ``path.2`` ... when an earlier upgrade left one there."""
    candidate, n = path, 0
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}.{n}")
    return candidate


def _remove_with_companions(path: Path) -> None:
    for suffix in ("", *_COMPANIONS):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
