"""The device model's tables (``attribute_value``, ``device_model_schema``) and the rebuild of
those made before their rows were keyed by station (device-model store version 2)."""

from __future__ import annotations

import sqlite3

# The device model's table: one row per stored attribute value of each station (``station``: the
# station's key in a database several stations share, '' in a station's own).  The station
# store's migrations make the same one.
ATTRIBUTE_VALUE_TABLE = """
CREATE TABLE IF NOT EXISTS attribute_value (
    station TEXT NOT NULL DEFAULT '',
    component TEXT NOT NULL,
    component_instance TEXT NOT NULL,
    evse INTEGER NOT NULL,
    connector INTEGER NOT NULL,
    variable TEXT NOT NULL,
    variable_instance TEXT NOT NULL,
    attribute TEXT NOT NULL,
    value TEXT,
    PRIMARY KEY (station, component, component_instance, evse, connector, variable,
                 variable_instance, attribute)
) WITHOUT ROWID
"""
COLUMNS = (
    "component, component_instance, evse, connector, variable, variable_instance, attribute, value"
)

# The device-model version of each station of a borrowed connection's database, and the base
# its rows start from (``device_model.bases``; NULL: its own rows are all of them).
VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS device_model_schema (
    station TEXT NOT NULL DEFAULT '' PRIMARY KEY,
    version INTEGER NOT NULL,
    base TEXT
)
"""


def rekey(conn: sqlite3.Connection, table: str, ddl: str, columns: str) -> None:
    """Rebuild ``table`` (made before its rows were keyed by station) as ``ddl`` makes it, its
    rows keyed '' (a station's own file), inside the caller's transaction.  A table that is
    not there, or is keyed already, is left alone."""
    have = columns_of(conn, table)
    if not have or "station" in have:
        return
    conn.execute(f"ALTER TABLE {table} RENAME TO {table}_unkeyed")
    conn.execute(ddl)
    conn.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {table}_unkeyed")
    conn.execute(f"DROP TABLE {table}_unkeyed")


def rekey_device_model(conn: sqlite3.Connection) -> None:
    """The device model's tables of a database made before version 2, keyed '' (in the
    caller's transaction)."""
    rekey(conn, "attribute_value", ATTRIBUTE_VALUE_TABLE, COLUMNS)
    rekey(conn, "device_model_schema", VERSION_TABLE, "version")
    add_column(conn, "device_model_schema", "base", "TEXT")  # (keyed before bases came)


def columns_of(conn: sqlite3.Connection, table: str) -> list[str]:
    """The column names of ``table`` (none: no such table)."""
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def add_column(conn: sqlite3.Connection, table: str, name: str, declaration: str) -> None:
    """Add column ``name`` to ``table`` where the table is there without it."""
    have = columns_of(conn, table)
    if have and name not in have:
        conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")
