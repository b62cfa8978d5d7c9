"""The one SQLite connection of a station store, and its transactions.

Durability policy (one for the whole station): WAL journal and ``synchronous=FULL``, so a commit
returns only after the WAL was synced to disk.  Everything the station answered to the CSMS
(a SetVariables Accepted, a charging profile Accepted — K01.FR.27 —, a queued TransactionEvent)
is committed with this policy before it is answered or sent, and survives a power loss.
"""

from __future__ import annotations

import os
import sqlite3

# The transactions of the station store are the device model's (a lower layer: it cannot import
# these), one code for both: all-or-nothing ``transaction`` and ``unsynced`` commits.
from device_model.store import transaction, unsynced

__all__ = ["STORE_FILE", "StorageError", "connect", "transaction", "unsynced"]

STORE_FILE = "station.db"  # in the station's data directory


class StorageError(Exception):
    """The station store cannot be opened (a newer schema, a legacy file it cannot import)."""


def connect(
    path: str | os.PathLike[str],
    factory: type[sqlite3.Connection] = sqlite3.Connection,
    *,
    exclusive: bool = False,
    image_copy: bool = False,
) -> sqlite3.Connection:
    """Open ``path`` in autocommit mode (``isolation_level=None``: every transaction is explicit),
    WAL, ``synchronous=FULL``.

    ``exclusive`` (a fleet station's store, whose one connection at a time the pool manages):
    ``locking_mode=EXCLUSIVE`` before the first access, so SQLite keeps the WAL index in memory
    instead of a ``-shm`` file (one file fewer to create and delete per open, no shared memory
    and no lock calls per transaction); the file stays locked to other processes until the
    connection closes.

    ``image_copy`` (a ``station.db`` just made as a copy of a store image, which is in WAL mode
    already: the mode is kept in the file): no journal-mode statement, and ``synchronous=OFF``
    until the caller sets another level (see :meth:`.store.StationStore.open`)."""
    try:
        conn = sqlite3.connect(
            os.fspath(path), isolation_level=None, check_same_thread=False, factory=factory
        )
    except sqlite3.Error as exc:
        _blame_descriptors(exc)
        raise
    try:
        if exclusive:
            conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        if image_copy:
            conn.execute("PRAGMA synchronous=OFF")
        else:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
    except BaseException as exc:
        if isinstance(exc, sqlite3.Error):
            _blame_descriptors(exc)  # (before the close: the file's descriptor is still held)
        conn.close()
        raise
    return conn


def _blame_descriptors(exc: sqlite3.Error) -> None:
    """SQLite says only "unable to open database file" when the process has no descriptor left
    (for the file or its ``-wal``): when this process cannot open one now either, that
    ``OSError`` (EMFILE) becomes the cause of ``exc``, so a fleet knows it met its limit
    (:func:`ocpp_station.fleet_capacity.out_of_resources`)."""
    if getattr(exc, "sqlite_errorcode", None) != sqlite3.SQLITE_CANTOPEN:
        return
    try:
        os.close(os.open(os.devnull, os.O_RDONLY))
    except OSError as cause:
        exc.__cause__ = cause
