"""SQLite persistence of attribute values (the only I/O of the device model).

One row per persisted attribute value in the table ``attribute_value``, keyed by names (not by slot
numbers), so a new release with reordered or added definitions reads an old database unchanged.
``None`` component/variable instances are stored as ``''`` and absent EVSE/connector ids as ``0``
to keep the primary key well defined (EVSE and connector ids start at 1).

Two ways to hold the table:

- **own file** (:meth:`Store.open`): the store opens the file, sets WAL and ``synchronous=FULL``,
  keeps its schema version in ``PRAGMA user_version`` and closes the file on :meth:`Store.close`;
- **borrowed connection** (:meth:`Store.borrow`): the table lives in a database another owner
  opened in autocommit mode (``isolation_level=None``), beside that owner's tables.  The store then
  sets no PRAGMA (journal mode, synchronous and ``user_version`` are the owner's), keeps its schema
  version in a table of its own, ``device_model_schema``, and never closes the connection.

Either way every write is one short ``BEGIN IMMEDIATE ... COMMIT`` transaction of its own.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable
from typing import Any

from device_model.addressing import RowKey

SCHEMA_VERSION = 1

# The device model's table; the station store's first migration creates the same one.
ATTRIBUTE_VALUE_TABLE = """
CREATE TABLE IF NOT EXISTS attribute_value (
    component TEXT NOT NULL,
    component_instance TEXT NOT NULL,
    evse INTEGER NOT NULL,
    connector INTEGER NOT NULL,
    variable TEXT NOT NULL,
    variable_instance TEXT NOT NULL,
    attribute TEXT NOT NULL,
    value TEXT,
    PRIMARY KEY (component, component_instance, evse, connector, variable, variable_instance,
                 attribute)
) WITHOUT ROWID
"""

_CREATE_VERSION = """
CREATE TABLE IF NOT EXISTS device_model_schema (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
)
"""

_SELECT = """
SELECT component, component_instance, evse, connector, variable, variable_instance, attribute,
       value
FROM attribute_value
"""

_UPSERT = """
INSERT INTO attribute_value
    (component, component_instance, evse, connector, variable, variable_instance, attribute,
     value)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (component, component_instance, evse, connector, variable, variable_instance,
             attribute) DO UPDATE SET value = excluded.value
"""


def _too_new(where: str, version: int) -> sqlite3.DatabaseError:
    return sqlite3.DatabaseError(
        f"{where}: device-model schema version {version} is newer than this release "
        f"understands ({SCHEMA_VERSION})"
    )


class Store:
    """The ``attribute_value`` table of one station, in its own file or a borrowed connection."""

    def __init__(self, conn: sqlite3.Connection, *, owned: bool) -> None:
        """Use :meth:`open` or :meth:`borrow`."""
        self._conn: sqlite3.Connection | None = conn
        self.owned = owned

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Store:
        """Open (or create) the device model's own SQLite file (WAL mode, synchronous=FULL)."""
        conn = sqlite3.connect(os.fspath(path), isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise _too_new(os.fspath(path), version)
            conn.execute(ATTRIBUTE_VALUE_TABLE)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except BaseException:
            conn.close()
            raise
        return cls(conn, owned=True)

    @classmethod
    def borrow(cls, conn: sqlite3.Connection) -> Store:
        """Keep the table in ``conn``, a connection its owner opened with
        ``isolation_level=None`` and keeps open while the store is in use.  Creates the table
        (and the schema-version table) if missing, in one transaction; sets no PRAGMA."""
        if conn.isolation_level is not None:
            raise ValueError(
                "the device model needs a connection opened with isolation_level=None "
                "(autocommit), so that its BEGIN ... COMMIT transactions are its own"
            )
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(ATTRIBUTE_VALUE_TABLE)
            conn.execute(_CREATE_VERSION)
            row = conn.execute("SELECT version FROM device_model_schema WHERE id = 1").fetchone()
            if row is not None and row[0] > SCHEMA_VERSION:
                raise _too_new("device_model_schema", row[0])
            if row is None or row[0] < SCHEMA_VERSION:  # unchanged: nothing written (no fsync)
                conn.execute(
                    "INSERT INTO device_model_schema (id, version) VALUES (1, ?) "
                    "ON CONFLICT (id) DO UPDATE SET version = excluded.version",
                    (SCHEMA_VERSION,),
                )
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise
        return cls(conn, owned=False)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise sqlite3.ProgrammingError("the device-model store is closed")
        return self._conn

    def load(self) -> dict[RowKey, str | None]:
        rows = self._connection().execute(_SELECT).fetchall()
        return {tuple(row[:7]): row[7] for row in rows}

    def write(self, rows: Iterable[tuple[RowKey, str | None]], *, synced: bool = True) -> None:
        """Upsert ``rows`` in one transaction: all of them are committed, or none.

        ``synced=False`` (the connection's owner keeps WAL and ``synchronous=FULL``): this
        commit is not synced by itself (``synchronous=NORMAL`` for it, consistent in WAL mode);
        the next synced commit on the connection syncs it."""
        params = [(*key, value) for key, value in rows]
        if not params:
            return
        conn = self._connection()
        relaxed = getattr(conn, "relaxed", None)  # the station store's (see ocpp_station.storage)
        if not synced and relaxed is not None:
            with relaxed():
                self._upsert(conn, params)
            return
        if not synced:
            conn.execute("PRAGMA synchronous=NORMAL")
        try:
            self._upsert(conn, params)
        finally:
            if not synced:
                conn.execute("PRAGMA synchronous=FULL")

    @staticmethod
    def _upsert(conn: sqlite3.Connection, params: list[tuple[Any, ...]]) -> None:
        if len(params) == 1 and not conn.in_transaction:  # atomic alone: no BEGIN and COMMIT
            # (inside the owner's transaction BEGIN below refuses, as it always did)
            conn.execute(_UPSERT, params[0])
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(_UPSERT, params)
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise

    def close(self) -> None:
        """Stop using the database; closes the connection only when the store opened it."""
        conn, self._conn = self._conn, None
        if conn is not None and self.owned:
            conn.close()


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back unless SQLite did already (it may, on a full disk); the error that led here
    is the one raised."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
