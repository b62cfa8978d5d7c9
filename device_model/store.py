"""SQLite persistence of attribute values (the only I/O of the device model).

One row per persisted attribute value, keyed by names (not by slot numbers), so a new release
with reordered or added definitions reads an old database unchanged.  ``None`` component/variable
instances are stored as ``''`` and absent EVSE/connector ids as ``0`` to keep the primary key
well defined (EVSE and connector ids start at 1).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable

SCHEMA_VERSION = 1

# (component, component_instance, evse, connector, variable, variable_instance, attribute)
RowKey = tuple[str, str, int, int, str, str, str]

_CREATE = """
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

_UPSERT = """
INSERT INTO attribute_value VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (component, component_instance, evse, connector, variable, variable_instance,
             attribute) DO UPDATE SET value = excluded.value
"""


class Store:
    """The SQLite file of one station's device model (WAL mode, synchronous=FULL)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._conn = sqlite3.connect(os.fspath(path), isolation_level=None)
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise sqlite3.DatabaseError(
                    f"{os.fspath(path)}: device-model schema version {version} is newer than "
                    f"this release understands ({SCHEMA_VERSION})"
                )
            self._conn.execute(_CREATE)
            self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except BaseException:
            self._conn.close()
            raise

    def load(self) -> dict[RowKey, str | None]:
        rows = self._conn.execute("SELECT * FROM attribute_value").fetchall()
        return {tuple(row[:7]): row[7] for row in rows}

    def write(self, rows: Iterable[tuple[RowKey, str | None]]) -> None:
        """Upsert ``rows`` in one transaction: all of them are committed, or none."""
        params = [(*key, value) for key, value in rows]
        if not params:
            return
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.executemany(_UPSERT, params)
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()
