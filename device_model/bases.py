"""Base rows: the device-model rows that the new stations of one database share (a fleet's).

Every new station of a fleet template starts from the same rows (its plan's, one tuple per seed:
:mod:`device_model.model`).  Written per station, they were the largest write of a fleet's boot
storm (71 rows for a station with 2 EVSEs).  Instead, each distinct rows tuple is stored once in
``attribute_value`` as the rows of a pseudo-station, its *base* (``"\\x00base:<digest>"``: no
station id can look like that), and a new station records in ``device_model_schema.base`` which
base its rows start from.  Its own rows are then only those it changed since: its values are its
base's rows overlaid with its own.  A base is never changed nor deleted, so a station keeps the
values of its first start (the seed of that start) as a station with its own copy of the rows
does, whatever the template says later.

A :class:`Bases` belongs to the owner of one database connection (the fleet's); it remembers
which bases that database holds (so each is written once per process) and their rows (read once
per process)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence

from device_model.addressing import RowKey
from device_model.tables import COLUMNS as _COLUMNS

Rows = Sequence[tuple[RowKey, str | None]]
PREFIX = "\x00base:"


class Bases:
    def __init__(self) -> None:
        self._keys: dict[int, tuple[Rows, str]] = {}  # id(rows) -> (rows, key): rows kept alive
        self._stored: set[str] = set()  # bases known to be committed in the database
        self._read: dict[str, dict[RowKey, str | None]] = {}

    def key(self, rows: tuple[tuple[RowKey, str | None], ...]) -> str:
        """The base key of ``rows`` (a digest of their content, the same in every process)."""
        known = self._keys.get(id(rows))
        if known is not None and known[0] is rows:
            return known[1]
        digest = hashlib.sha256(json.dumps(rows, separators=(",", ":")).encode()).hexdigest()
        key = PREFIX + digest[:32]
        self._keys[id(rows)] = (rows, key)
        return key

    def write(self, conn: sqlite3.Connection, key: str, rows: Rows) -> None:
        """Store base ``key`` (its ``rows``) unless this database holds it already: inside the
        caller's transaction; :meth:`committed` after its commit."""
        if key not in self._stored:
            conn.executemany(
                f"INSERT OR IGNORE INTO attribute_value (station, {_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(key, *row_key, value) for row_key, value in rows],
            )

    def committed(self, key: str) -> None:
        self._stored.add(key)

    def rows(self, conn: sqlite3.Connection, key: str) -> dict[RowKey, str | None]:
        """The rows of base ``key`` (read once per process)."""
        rows = self._read.get(key)
        if rows is None:
            rows = read(conn, key)
            self._read[key] = rows
            self._stored.add(key)
        return rows


def read(conn: sqlite3.Connection, key: str) -> dict[RowKey, str | None]:
    found = conn.execute(f"SELECT {_COLUMNS} FROM attribute_value WHERE station = ?", (key,))
    return {tuple(row[:7]): row[7] for row in found.fetchall()}
