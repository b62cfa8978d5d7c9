"""One SQLite database for the stations of a fleet: ``<fleet data_dir>/fleet.db`` (issue 19).

Every table of the station store is keyed by ``station`` (schema version 6), so the stations of
a fleet keep their rows in one file on one connection: a station's start opens no file, reads no
schema and prepares no statement of its own (a boot storm's loop spent about 40 % of its time
on those with a file per station), and a fleet process holds three descriptors for its stores
(the file, its ``-wal`` and ``-shm``) whatever its size.

Each station keeps every guarantee of a station with its own file, because the policy is the
same one: WAL, ``synchronous=FULL`` (whatever a station answered or queued is synced before it
leaves), a TransactionEvent committed with its engine state in one transaction.  Commits of
different stations never mix: the connection is used by the event-loop thread only, and each
transaction is opened and committed without an ``await`` between.  The unsynced commits of a
start (a new station's version row naming its base, :mod:`device_model.bases`: the defaults
its template's new stations share, stored once) are synced by the next synced commit of any
station, and a
WAL keeps them in order: a power cut loses a suffix, never a station's first write while keeping
a later one.  A station is new here when it has no device-model version row: that write is the
first of its start.

A station whose data directory already holds its own ``station.db`` (a fleet run by a release
before this one) keeps using that file, through the fleet's store pool: nothing is moved.

The fleet's data directory is made 0700 (it holds the stations' Basic-auth passwords);
``fleet.db`` and its ``-wal`` and ``-shm`` are 0600.  The processes of one fleet
(``--workers``, or shards on one host) share the file: SQLite's WAL locks let one of them
commit at a time, and a process waits up to 5 s for another's commit (sqlite3's default
busy timeout) before a write fails as a storage error.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from device_model.bases import Bases
from ocpp_station.files import FILE_MODE, make_private_dir
from ocpp_station.storage import legacy
from ocpp_station.storage.connection import STORE_FILE, StorageError, connect
from ocpp_station.storage.health import ObservedConnection, StorageHealth
from ocpp_station.storage.migrations import migrate
from ocpp_station.storage.store import StationStore, private_files

FLEET_FILE = "fleet.db"
LOG = logging.getLogger("ocpp_station.storage")


class FleetDatabase:
    """The open ``fleet.db`` of a fleet: :meth:`open` it once (a worker thread may), give each
    station its :meth:`store` (event-loop thread), :meth:`close` it when every station stopped."""

    def __init__(
        self,
        connection: ObservedConnection,
        path: Path,
        *,
        known: set[str],
        entries: dict[str, bool],
    ) -> None:
        self.connection = connection
        self.path = path
        self.bases = Bases()  # the device-model rows its new stations share
        self._known = known  # stations with rows here
        # What the fleet's data directory held when it opened: name -> whether a folder.
        self._entries = entries

    @classmethod
    def open(
        cls,
        root: str | os.PathLike[str],
        *,
        logger: logging.Logger | None = None,
        now: Callable[[], float] = time.time,
    ) -> FleetDatabase:
        """Open (or create) ``root/fleet.db`` and bring its schema up to date; raises
        :class:`StorageError` naming the file and what is wrong."""
        log = logger or LOG
        folder = Path(root)
        path = folder / FLEET_FILE
        try:
            make_private_dir(folder)
            entries = {entry.name: entry.is_dir() for entry in os.scandir(folder)}
        except OSError as exc:
            raise StorageError(f"fleet data directory {folder}: {exc.strerror}") from None
        try:
            _private(path)
            conn = connect(path, factory=ObservedConnection)
        except OSError as exc:
            raise StorageError(f"{path}: cannot open: {exc.strerror}") from None
        except sqlite3.Error as exc:
            raise StorageError(f"{path}: cannot open: {exc}") from None
        assert isinstance(conn, ObservedConnection)
        conn.health = StorageHealth(str(path), logger=log, now=now)
        try:
            migrate(conn, FLEET_FILE)
            known = _stations(conn)
        except sqlite3.Error as exc:
            conn.close()
            raise StorageError(f"{path}: {exc}") from None
        except BaseException:
            conn.close()
            raise
        return cls(conn, path, known=known, entries=entries)

    def holds(self, data_dir: str | os.PathLike[str]) -> bool:
        """Whether a station with this data directory keeps its rows here: False when the
        directory holds a ``station.db`` of its own, or the files of release 0.1.0 (that station
        keeps using, or imports, its own file), or is not a directory (that station's own store
        says what is wrong, and it does not start)."""
        folder = Path(data_dir)
        if folder.parent == self.path.parent:
            is_dir = self._entries.get(folder.name)
            if is_dir is None:
                return True  # (nothing there when the fleet started: nothing of its own)
            if not is_dir:
                return False
        elif folder.exists() and not folder.is_dir():
            return False
        return not ((folder / STORE_FILE).exists() or legacy.legacy_files(folder))

    def store(
        self, station: str, data_dir: str | os.PathLike[str], *, logger: logging.Logger
    ) -> StationStore:
        """The station's store on the fleet's connection (closing it leaves the connection)."""
        fresh = station not in self._known
        self._known.add(station)
        folder = Path(data_dir)
        if folder.parent == self.path.parent:  # (a fleet station's: nothing to look at)
            new_directory = folder.name not in self._entries
        else:
            new_directory = not folder.exists()
        return StationStore(
            self.connection,
            self.path,
            logger=logger,
            fresh=fresh,
            new_directory=new_directory,  # (no folder: no installed certificate to look for)
            station=station,
            shared=True,
        )

    def close(self) -> None:
        self.connection.close()


def _private(path: Path) -> None:
    """``path`` made 0600 when missing (SQLite gives its ``-wal`` and ``-shm`` the mode of the
    database file), and narrowed to 0600 with its companions when it was wider."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE))
    private_files(path)


def _stations(conn: sqlite3.Connection) -> set[str]:
    """The stations whose device model wrote its version here (the first write of a start)."""
    try:
        rows = conn.execute("SELECT station FROM device_model_schema").fetchall()
    except sqlite3.OperationalError:  # no station ever started here: no such table yet
        return set()
    return {str(row[0]) for row in rows}
