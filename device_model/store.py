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

**Images.**  The owner of a borrowed connection may make a new database as a copy of an *image*
(:func:`fill_image`): the tables with the rows of another station of the same layout, and
``device_model_schema.version`` at :data:`IMAGE_VERSION`.  Those rows are not stored values: the
first :meth:`Store.write` of the station changes the ones whose value differs and sets the version,
in one transaction, and until it has, a later :meth:`Store.borrow` still treats the rows as an
image's (a power cut between the copy and that write).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from device_model import bases as base_rows
from device_model.addressing import RowKey
from device_model.bases import Bases
from device_model.tables import ATTRIBUTE_VALUE_TABLE as ATTRIBUTE_VALUE_TABLE
from device_model.tables import COLUMNS as _COLUMNS
from device_model.tables import VERSION_TABLE as VERSION_TABLE
from device_model.tables import rekey as rekey
from device_model.tables import rekey_device_model as rekey_device_model

# 2: every table keyed by ``station`` (a fleet's stations share one database; a station's own
# file keys its rows '').
SCHEMA_VERSION = 2
# device_model_schema.version of an image's copy whose station has not written its rows yet.
IMAGE_VERSION = 0

_SELECT = f"SELECT {_COLUMNS} FROM attribute_value WHERE station = ?"

_UPSERT = f"""
INSERT INTO attribute_value (station, {_COLUMNS})
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (station, component, component_instance, evse, connector, variable,
             variable_instance, attribute) DO UPDATE SET value = excluded.value
"""


_ABSENT = object()

Rows = Sequence[tuple[RowKey, str | None]]


class ImageRows(dict[RowKey, str | None]):
    """The rows an image holds, made from ``source``: a store whose first write is that very
    tuple (a fleet's stations share one rows tuple per seed, ``device_model.model``) knows
    without comparing that it changes no row."""

    def __init__(self, source: Rows) -> None:
        super().__init__(source)
        self.source = source if isinstance(source, tuple) else None  # (a list may change)


_DELETE = """
DELETE FROM attribute_value
WHERE station = ? AND component = ? AND component_instance = ? AND evse = ? AND connector = ?
      AND variable = ? AND variable_instance = ? AND attribute = ?
"""

_SET_VERSION = (
    "INSERT INTO device_model_schema (station, version) VALUES (?, ?) "
    "ON CONFLICT (station) DO UPDATE SET version = excluded.version"
)
_SET_VERSION_BASE = (
    "INSERT INTO device_model_schema (station, version, base) VALUES (?, ?, ?) "
    "ON CONFLICT (station) DO UPDATE SET version = excluded.version, base = excluded.base"
)
_GET_VERSION = "SELECT version, base FROM device_model_schema WHERE station = ?"


def fill_image(conn: sqlite3.Connection, rows: Iterable[tuple[RowKey, str | None]]) -> None:
    """Make the database of ``conn`` (autocommit, new) an image: the tables, ``rows`` and
    version :data:`IMAGE_VERSION`, in one transaction (see the module); its rows are keyed ''
    (a station's own file)."""
    with transaction(conn):
        conn.execute(ATTRIBUTE_VALUE_TABLE)
        conn.execute(VERSION_TABLE)
        conn.executemany(_UPSERT, [("", *key, value) for key, value in rows])
        conn.execute(_SET_VERSION, ("", IMAGE_VERSION))


def _differences(
    image: Mapping[RowKey, str | None], rows: Iterable[tuple[RowKey, str | None]], station: str
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows to upsert and the keys to delete (as parameters, keyed ``station``) that make
    ``image``'s rows ``rows``."""
    rows = list(rows)
    changed, held = [], 0
    for key, value in rows:
        old = image.get(key, _ABSENT)
        if old is not _ABSENT:
            held += 1
        if old != value:
            changed.append((station, *key, value))
    gone: list[tuple[Any, ...]] = []
    if held != len(image):  # (never for an image of the same layout: the keys are the same)
        wanted = {key for key, _value in rows}
        gone = [(station, *key) for key in image if key not in wanted]
    return changed, gone


def _too_new(where: str, version: int) -> sqlite3.DatabaseError:
    return sqlite3.DatabaseError(
        f"{where}: device-model schema version {version} is newer than this release "
        f"understands ({SCHEMA_VERSION})"
    )


class Store:
    """The ``attribute_value`` rows of one station, in its own file or a borrowed connection."""

    def __init__(self, conn: sqlite3.Connection, *, owned: bool, station: str = "") -> None:
        """Use :meth:`open` or :meth:`borrow`."""
        self._conn: sqlite3.Connection | None = conn
        self.owned = owned
        self.station = station  # the rows' key ('': the station's own database)
        # The rows of an image this database is a copy of, until the first write (see borrow).
        self._image: Mapping[RowKey, str | None] | None = None
        self._new = False  # the station has no rows yet, until the first write (see borrow)
        self._bases: Bases | None = None  # the database owner's shared rows (see borrow)
        self._base: str | None = None  # the base this station's rows start from

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
            if version < SCHEMA_VERSION:
                with transaction(conn):
                    rekey(conn, "attribute_value", ATTRIBUTE_VALUE_TABLE, _COLUMNS)
                    conn.execute(ATTRIBUTE_VALUE_TABLE)
                    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except BaseException:
            conn.close()
            raise
        return cls(conn, owned=True)

    @classmethod
    def borrow(
        cls,
        conn: sqlite3.Connection,
        *,
        image: Mapping[RowKey, str | None] | None = None,
        station: str = "",
        new: bool = False,
        bases: Bases | None = None,
    ) -> Store:
        """Keep the rows keyed ``station`` in ``conn``, a connection its owner opened with
        ``isolation_level=None`` and keeps open while the store is in use.  Creates the table
        (and the schema-version table) if missing, in one transaction; sets no PRAGMA.

        ``image``: the owner made this database a moment ago as a copy of an image
        (:func:`fill_image`) holding exactly these rows, and knows it: no statement runs
        here.  :meth:`load` then finds nothing stored, and the first :meth:`write` stores its
        rows by changing only those whose value differs from the image's.

        ``new``: the owner knows that the database's tables are current and hold no row of
        ``station`` (a fleet database's new station): no statement runs here either, and the
        first :meth:`write` stores its rows and the version in one transaction that is not
        synced by itself (a station's defaults, which its next start rebuilds identically).
        ``bases``: the owner's :class:`~device_model.bases.Bases`; a new station's first
        write of its plan's rows then stores no row of its own, only its base."""
        if conn.isolation_level is not None:
            raise ValueError(
                "the device model needs a connection opened with isolation_level=None "
                "(autocommit), so that its BEGIN ... COMMIT transactions are its own"
            )
        store = cls(conn, owned=False, station=station)
        store._bases = bases
        if new:
            store._new = True
            return store
        if image is not None:
            store._image = image  # (read only: images are shared)
            return store
        with transaction(conn):
            try:
                row = conn.execute(_GET_VERSION, (station,)).fetchone()
            except sqlite3.OperationalError:  # no table yet, or one made before version 2
                row = None
            if row is None:  # (a station's first start, or a database of before version 2)
                rekey_device_model(conn)
                conn.execute(ATTRIBUTE_VALUE_TABLE)
                conn.execute(VERSION_TABLE)
                row = conn.execute(_GET_VERSION, (station,)).fetchone()
            if row is not None and row[1] is not None:
                store._base = str(row[1])
            if row is not None and row[0] > SCHEMA_VERSION:
                raise _too_new("device_model_schema", row[0])
            if row is not None and row[0] == IMAGE_VERSION:  # a copy never written to: its
                store._image = store._select()  # rows are still the image's (see the module)
            elif row is None or row[0] < SCHEMA_VERSION:  # unchanged: nothing written (no fsync)
                conn.execute(_SET_VERSION, (station, SCHEMA_VERSION))
        return store

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise sqlite3.ProgrammingError("the device-model store is closed")
        return self._conn

    def load(self) -> dict[RowKey, str | None]:
        """Every stored row (none in an image's copy before its first write)."""
        if self._image is not None or self._new:
            self._connection()
            return {}
        return self._select()

    def _select(self) -> dict[RowKey, str | None]:
        conn = self._connection()
        rows = conn.execute(_SELECT, (self.station,)).fetchall()
        own: dict[RowKey, str | None] = {tuple(row[:7]): row[7] for row in rows}
        if self._base is None:
            return own
        base = self._base
        merged = dict(self._bases.rows(conn, base) if self._bases else base_rows.read(conn, base))
        merged.update(own)  # (what the station changed since its first start)
        return merged

    def write(self, rows: Iterable[tuple[RowKey, str | None]], *, synced: bool = True) -> None:
        """Upsert ``rows`` in one transaction: all of them are committed, or none.

        ``synced=False`` (the connection's owner keeps WAL and ``synchronous=FULL``): this
        commit is not synced by itself (``synchronous=NORMAL`` for it, consistent in WAL mode);
        the next synced commit on the connection syncs it."""
        conn = self._connection()
        if self._image is not None:
            self._write_over_image(conn, rows, synced=synced)
            return
        key_ = self.station
        params = [(key_, *key, value) for key, value in rows]
        if self._new and self._bases is not None and isinstance(rows, tuple):
            self._write_base(conn, rows, self._bases)
            return
        if self._new:  # the station's first write: its rows and its version, one transaction
            with unsynced(conn), transaction(conn):
                conn.executemany(_UPSERT, params)
                conn.execute(_SET_VERSION, (key_, SCHEMA_VERSION))
            self._new = False
            return
        if not params:
            return
        with contextlib.nullcontext() if synced else unsynced(conn):
            self._upsert(conn, params)

    def _write_base(
        self, conn: sqlite3.Connection, rows: tuple[tuple[RowKey, str | None], ...], bases: Bases
    ) -> None:
        """A new station's first write of a rows tuple: the base of those rows (stored once per
        database) and the station's version naming it, in one unsynced transaction."""
        base = bases.key(rows)
        with unsynced(conn), transaction(conn):
            bases.write(conn, base, rows)
            conn.execute(_SET_VERSION_BASE, (self.station, SCHEMA_VERSION, base))
        bases.committed(base)
        self._new, self._base = False, base

    def _write_over_image(
        self,
        conn: sqlite3.Connection,
        rows: Iterable[tuple[RowKey, str | None]],
        *,
        synced: bool,
    ) -> None:
        """The first write to an image's copy: ``rows`` become its content (the image's rows
        whose value differs are changed, those ``rows`` do not list are deleted) and the version
        is set, in one transaction."""
        image = self._image
        assert image is not None
        if rows is getattr(image, "source", None):  # what the image was made from: no change
            changed: list[tuple[Any, ...]] = []
            gone: list[tuple[Any, ...]] = []
        else:
            changed, gone = _differences(image, rows, self.station)
        with contextlib.nullcontext() if synced else unsynced(conn):
            if not changed and not gone:  # (the usual case: the version alone, atomic alone)
                conn.execute(_SET_VERSION, (self.station, SCHEMA_VERSION))
            else:
                with transaction(conn):
                    if changed:
                        conn.executemany(_UPSERT, changed)
                    if gone:
                        conn.executemany(_DELETE, gone)
                    conn.execute(_SET_VERSION, (self.station, SCHEMA_VERSION))
        self._image = None

    @staticmethod
    def _upsert(conn: sqlite3.Connection, params: list[tuple[Any, ...]]) -> None:
        if len(params) == 1 and not conn.in_transaction:  # atomic alone: no BEGIN and COMMIT
            # (inside the owner's transaction BEGIN below refuses, as it always did)
            conn.execute(_UPSERT, params[0])
            return
        with transaction(conn):
            conn.executemany(_UPSERT, params)

    def close(self) -> None:
        """Stop using the database; closes the connection only when the store opened it."""
        conn, self._conn = self._conn, None
        if conn is not None and self.owned:
            conn.close()


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any exception: all or nothing.

    A full disk (SQLITE_FULL) may make SQLite roll back by itself, and may make the COMMIT
    itself fail: the original error is raised either way, and the connection is never left
    inside a transaction.  (The station store's transactions are these too:
    ``ocpp_station.storage.connection``.)"""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise


def rollback(conn: sqlite3.Connection) -> None:
    """Roll back the open transaction, if SQLite has not done so already."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):  # the error that brought us here is reported
            conn.execute("ROLLBACK")


@contextlib.contextmanager
def unsynced(conn: sqlite3.Connection) -> Iterator[None]:
    """Commits inside are not synced by themselves (``synchronous=NORMAL``; WAL keeps them
    consistent): only for what a start after a power cut rebuilds identically (a new station's
    defaults) or what loses nothing when it is lost (an acknowledged message's DELETE).  The
    next synced commit syncs them with it.  On a station store's connection (``relaxed()``:
    ``ocpp_station.storage.health.ObservedConnection``) FULL comes back before the next
    statement that may write; on any other, on exit."""
    relaxed = getattr(conn, "relaxed", None)
    if relaxed is not None:
        with relaxed():
            yield
        return
    conn.execute("PRAGMA synchronous=NORMAL")
    try:
        yield
    finally:
        conn.execute("PRAGMA synchronous=FULL")
