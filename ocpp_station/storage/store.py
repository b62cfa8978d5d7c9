"""One SQLite file per station: ``<data_dir>/station.db``.

:class:`StationStore` owns the connection and offers it to every part that persists:

* ``messages`` — the persistent outbound queue (:class:`.MessageQueue`);
* ``state`` — the blocks' small state records (:class:`.StateRecords`);
* ``connection`` — borrowed by the device model (table ``attribute_value``) and the charging
  profile store (table ``charging_profiles``), which set no PRAGMA of their own.

Durability: one policy for everything — WAL and ``synchronous=FULL`` — so whatever the station
answered to the CSMS (a variable set, a charging profile Accepted — K01.FR.27 —, a queued message)
is on disk before the answer leaves.  The commit of a TransactionEvent with the engine state that
produced it (``messages.push_batch(..., state_key, state)``) stays one SQLite transaction.

The schema has a version (``PRAGMA user_version``) and ordered migrations
(:mod:`ocpp_station.storage.migrations`); a data directory of release 0.1.0 is imported on first
open (:mod:`ocpp_station.storage.legacy`).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from device_model.addressing import RowKey
from ocpp_station.storage import legacy
from ocpp_station.storage.connection import STORE_FILE, StorageError, connect
from ocpp_station.storage.health import ObservedConnection, StorageHealth
from ocpp_station.storage.image import create_from_image
from ocpp_station.storage.messages import MessageQueue
from ocpp_station.storage.migrations import migrate, schema_version
from ocpp_station.storage.newfiles import make_directory
from ocpp_station.storage.pool import ConnectionPool, PooledConnection
from ocpp_station.storage.state import StateRecords

_UMASK_LOCK = threading.Lock()


class PreparedFiles(NamedTuple):
    """What :meth:`StationStore.prepare` made ready: the directory, ``station.db``, whether the
    directory was made by it, and for a new copy of the image the rows it holds (``fresh``;
    empty for an image without the device model's rows)."""

    directory: Path
    path: Path
    made: bool
    held: dict[RowKey, str | None] | None

    @property
    def fresh(self) -> bool:
        """A copy of the image made by this call: no migration and nothing to read."""
        return self.held is not None


class StationStore:
    """The open store of one station.  Build it with :meth:`open`; :meth:`close` it at stop."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        path: Path,
        *,
        logger: logging.Logger | None = None,
        fresh: bool = False,
        image: dict[RowKey, str | None] | None = None,
        new_directory: bool = False,
        station: str = "",
        shared: bool = False,
    ) -> None:
        log = logger or logging.getLogger("ocpp_station.storage")
        self.connection = connection
        # The key of this station's rows in the database ('': the station's own station.db);
        # ``shared``: the connection is a fleet database's (:mod:`.fleet_db`), which closes it.
        self.station = station
        self.shared = shared
        self.path = path
        self.new_directory = new_directory  # the data directory was made by this open: empty
        # A store this process just made as a copy of an image: every table is empty but the
        # device model's, which holds ``image`` (None: not those tables either) until the
        # device model's first write (``Store.borrow(..., image=...)``).
        self.fresh = fresh
        self.image = image
        self.state = StateRecords(connection, logger=log, station=station)
        self.messages = MessageQueue(
            connection, logger=log, on_state=self.state.written, empty=fresh, station=station
        )

    @classmethod
    def open(
        cls,
        data_dir: str | os.PathLike[str],
        *,
        logger: logging.Logger | None = None,
        now: Callable[[], float] = time.time,
        pooled: bool = False,
        initialise: Callable[[StationStore], object] | None = None,
        preload: bool = False,
        image_rows: Sequence[tuple[RowKey, str | None]] = (),
    ) -> StationStore:
        """Open (or create) ``data_dir/station.db``, importing a 0.1.0 data directory first
        when there is no ``station.db`` yet, and bring its schema up to date.

        The directory is created 0700 and the SQLite files 0600 (they hold the Basic-auth
        password); an existing directory others can read is tightened to 0700 when it is the
        station's own (it holds ``station.db`` or is empty), else a warning says so.

        Raises :class:`~ocpp_station.storage.connection.StorageError` with one line naming the
        directory and what is wrong: a directory that cannot be created or written (read-only,
        no permission), a file that cannot be opened, a file of a newer release, an old file
        that cannot be imported (the old files are then left as they are).

        ``pooled`` (fleet stations): :attr:`connection` is a
        :class:`~ocpp_station.storage.pool.PooledConnection` that keeps the connection opened here
        until :meth:`join` hands it to a :class:`~ocpp_station.storage.pool.ConnectionPool`, which
        then closes and reopens it as it needs.  ``open`` touches no pool, so it may run in a
        worker thread (:mod:`ocpp_station.storage.offload`); :meth:`join` runs in the loop
        thread.

        ``preload``: read every state record now (:meth:`.StateRecords.preload`; the station
        releases them when its blocks have started).

        ``image_rows``: the device model's rows of a new store (``DeviceModel.plan(...).rows``).
        A ``station.db`` this call creates is a copy of an image (:func:`.image.store_image`) that
        holds rows with the same keys already, written for the first station of this layout
        in the process; :attr:`image` gives them to the device model, whose first write
        changes those that differ.  Such a copy needs no migration and no read at all.

        ``initialise(store)`` runs after the migrations (the device model's seed).  In a
        ``station.db`` created by this call, what ``initialise`` writes is committed with
        ``synchronous=OFF``: no sync at all, not even of the new ``-wal`` file's header and
        folder entry.  That is safe here and only here: it is the initial state that a start
        after a power cut rebuilds identically, no checkpoint runs meanwhile (the file stays
        the synced image), and a WAL that lost its header or frames is ignored by SQLite as a
        whole (checksums).  ``synchronous=NORMAL`` is set before ``open`` returns, and ``FULL``
        comes back before the first statement that may write outside a relaxed block
        (:meth:`.health.ObservedConnection.relax`: a start's first commits are unsynced ones):
        the first synced commit of the station (anything it reports or answers), or the
        checkpoint when the connection closes, syncs the ``-wal`` file and its folder entry."""
        files = cls.prepare(data_dir, logger=logger, image_rows=image_rows)
        return cls.open_prepared(
            files, logger=logger, now=now, pooled=pooled, initialise=initialise, preload=preload
        )

    @staticmethod
    def prepare(
        data_dir: str | os.PathLike[str],
        *,
        logger: logging.Logger | None = None,
        image_rows: Sequence[tuple[RowKey, str | None]] = (),
    ) -> PreparedFiles:
        """The file half of :meth:`open`: the directory checked or made, ``station.db`` imported
        from a 0.1.0 directory or made as a copy of the image (synced) when there is none.  It
        opens no connection, so its result needs no closing; :meth:`open_prepared` opens it.

        A new copy also gets its empty ``-wal`` file here (SQLite takes a zero-length WAL as one
        without frames), so that no file is created when the connection writes first: all the
        slow file-system work of a new store (each new inode costs this VM's ext4 0.1-0.5 ms)
        stays in the worker thread that calls this, and :meth:`open_prepared` of a new copy,
        which reads nothing and migrates nothing, is cheap enough for the event loop."""
        log = logger or logging.getLogger("ocpp_station.storage")
        directory = Path(data_dir)
        made = _prepare(directory, log)  # a directory made here is empty: nothing to look for
        path = directory / STORE_FILE
        held: dict[RowKey, str | None] | None = None
        if made or not path.exists():
            if not made and legacy.legacy_files(directory):
                with _UMASK_LOCK:  # the umask is the process's: one import at a time
                    old_umask = os.umask(0o077)  # the import's files: 0600 (a password is there)
                    try:
                        legacy.import_legacy(directory, path, log)
                    finally:
                        os.umask(old_umask)
            else:
                held = create_from_image(path, image_rows)
        elif not made:  # (files made here are 0600 already)
            private_files(path)
        return PreparedFiles(directory, path, made, held)

    @classmethod
    def open_prepared(
        cls,
        files: PreparedFiles,
        *,
        logger: logging.Logger | None = None,
        now: Callable[[], float] = time.time,
        pooled: bool = False,
        initialise: Callable[[StationStore], object] | None = None,
        preload: bool = False,
    ) -> StationStore:
        """The connection half of :meth:`open`, for what :meth:`prepare` made ready (same
        arguments, same errors)."""
        log = logger or logging.getLogger("ocpp_station.storage")
        directory, path, fresh = files.directory, files.path, files.fresh
        try:
            conn = connect(path, factory=ObservedConnection, exclusive=pooled, image_copy=fresh)
        except sqlite3.Error as exc:
            message = f"data directory {directory}: cannot open {path.name}: {exc}"
            raise StorageError(message) from None
        assert isinstance(conn, ObservedConnection)
        conn.health = StorageHealth(str(path), logger=log, now=now)
        try:
            if not fresh:  # (an image's copy is at SCHEMA_VERSION: it was made by the
                migrate(conn, STORE_FILE)  # migrations; it is synchronous=OFF, see open)
            handle = _pooled(conn, path) if pooled else conn
            image = files.held or None  # (an image without rows: no such tables)
            store = cls(
                handle, path, logger=log, fresh=fresh, image=image, new_directory=files.made
            )
        except sqlite3.Error as exc:
            conn.close()
            raise StorageError(f"data directory {directory}: {path.name}: {exc}") from None
        except BaseException:
            conn.close()
            raise
        try:
            if initialise is not None:
                initialise(store)
            if fresh:  # (OFF until here: see open)
                conn.relax()
            if preload:  # a station's start: its record loads (a new copy has none to read)
                store.state.preload(empty=fresh)
        except BaseException:
            conn.close()
            raise
        if not files.made and not fresh:  # (a new copy: there were no 0.1.0 files)
            legacy.retire(directory, log)
        return store

    def join(self, pool: ConnectionPool) -> None:
        """Hand a ``pooled`` store's connection to ``pool`` (from the event-loop thread)."""
        if not isinstance(self.connection, PooledConnection):
            raise ValueError(f"{self.path}: this store was not opened with pooled=True")
        pool.manage(self.connection)

    @property
    def health(self) -> StorageHealth:
        """Whether the store can write now (``status`` shows it)."""
        health = getattr(self.connection, "health", None)
        if health is None:  # a store built on a plain connection (tests): observe nothing
            health = StorageHealth(str(self.path))
        return health

    def probe(self) -> bool:
        """Try one small committed write (while the store cannot write, the station calls this
        now and then, so it recovers by itself when space returns); True when it went."""
        try:
            self.connection.execute(
                "INSERT OR REPLACE INTO state (station, key, value) "
                "VALUES (?, 'storage.probe', '{}')",
                (self.station,),
            )
        except sqlite3.Error:
            return False
        return True

    @property
    def schema_version(self) -> int:
        return schema_version(self.connection)

    def close(self) -> None:
        if not self.shared:
            self.connection.close()


def _prepare(directory: Path, log: logging.Logger) -> bool:
    """Create the data directory 0700, or check an existing one; then make sure it is
    writable.  Any problem is a :class:`StorageError` naming the directory and the cause.
    True when this call created the directory (then it is empty)."""
    try:
        if make_directory(directory):  # made here, empty and 0700: nothing to check below
            return True
    except OSError as exc:
        raise StorageError(
            f"data directory {directory}: cannot be created: {exc.strerror}"
        ) from None
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        raise StorageError(f"data directory {directory}: exists and is not a directory") from None
    except OSError as exc:
        raise StorageError(
            f"data directory {directory}: cannot be created: {exc.strerror}"
        ) from None
    if not directory.is_dir():
        raise StorageError(f"data directory {directory}: is not a directory")
    mode = stat.S_IMODE(directory.stat().st_mode)
    if mode & 0o077:
        if (directory / STORE_FILE).exists() or not any(directory.iterdir()):
            try:
                directory.chmod(0o700)
            except OSError as exc:
                if exc.errno == errno.EROFS:
                    pass  # a read-only medium: the write check below says so, in one line
                else:
                    log.warning(
                        "data directory %s is mode %o and cannot be made 0700: %s",
                        directory,
                        mode,
                        exc.strerror,
                    )
        else:
            log.warning(
                "data directory %s is mode %o: other users may read the station's files",
                directory,
                mode,
            )
    probe = directory / f".write-test-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        os.unlink(probe)
    except FileExistsError:
        with contextlib.suppress(OSError):
            os.unlink(probe)
    except OSError as exc:
        raise StorageError(
            f"data directory {directory}: cannot write there: {exc.strerror}"
        ) from None
    return False


def private_files(path: Path) -> None:
    """A database file and its -wal/-shm files: 0600 (also those a release before this one
    made, or another hand widened)."""
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
        file = path.with_name(name)
        with contextlib.suppress(FileNotFoundError):
            if stat.S_IMODE(file.stat().st_mode) != 0o600:
                file.chmod(0o600)


def _pooled(conn: sqlite3.Connection, path: Path) -> PooledConnection:
    """The handle of a fleet station's store; it reopens ``path`` like :meth:`StationStore.open`
    opened it (WAL, ``synchronous=FULL``, every write observed by the same health record)."""

    def opener() -> sqlite3.Connection:
        return connect(path, factory=ObservedConnection, exclusive=True)

    return PooledConnection(opener, conn, health=getattr(conn, "health", None), name=path.name)
