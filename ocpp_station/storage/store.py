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

import logging
import os
import sqlite3
from pathlib import Path

from ocpp_station.storage import legacy
from ocpp_station.storage.connection import connect
from ocpp_station.storage.messages import MessageQueue
from ocpp_station.storage.migrations import migrate, schema_version
from ocpp_station.storage.state import StateRecords

STORE_FILE = "station.db"


class StationStore:
    """The open store of one station.  Build it with :meth:`open`; :meth:`close` it at stop."""

    def __init__(
        self, connection: sqlite3.Connection, path: Path, *, logger: logging.Logger | None = None
    ) -> None:
        log = logger or logging.getLogger("ocpp_station.storage")
        self.connection = connection
        self.path = path
        self.messages = MessageQueue(connection, logger=log)
        self.state = StateRecords(connection, logger=log)

    @classmethod
    def open(
        cls, data_dir: str | os.PathLike[str], *, logger: logging.Logger | None = None
    ) -> StationStore:
        """Open (or create) ``data_dir/station.db``, importing a 0.1.0 data directory first
        when there is no ``station.db`` yet, and bring its schema up to date.

        Raises :class:`~ocpp_station.storage.connection.StorageError` for a file of a newer
        release or an old file that cannot be imported (the old files are then left as they
        are), ``sqlite3.Error`` when the file cannot be opened at all."""
        log = logger or logging.getLogger("ocpp_station.storage")
        directory = Path(data_dir)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / STORE_FILE
        if not path.exists() and legacy.legacy_files(directory):
            legacy.import_legacy(directory, path, log)
        conn = connect(path)
        try:
            migrate(conn, STORE_FILE)
            store = cls(conn, path, logger=log)
        except BaseException:
            conn.close()
            raise
        legacy.retire(directory, log)
        return store

    @property
    def schema_version(self) -> int:
        return schema_version(self.connection)

    def close(self) -> None:
        self.connection.close()
