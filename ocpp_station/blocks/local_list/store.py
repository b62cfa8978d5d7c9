"""The local authorization list in the station store (tables ``local_auth_list`` and
``local_auth_list_version``, schema version 3).

Every SendLocalList that is Accepted is applied in ONE SQLite transaction — the entries and the
new version together — under the store's ``synchronous=FULL`` policy, before the answer leaves:
a power loss mid-update leaves the old list or the new one, never half of it (D01.FR.10).
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any

from ocpp_station.blocks.local_list.versions import NO_LIST
from ocpp_station.storage.connection import transaction

if TYPE_CHECKING:
    from ocpp_station.blocks.local_list.list import Outcome


class ListStore:
    """The list's rows on the store's connection (which it does not own)."""

    def __init__(self, connection: sqlite3.Connection, *, station: str = "") -> None:
        self._db = connection
        self._station = station  # the station's key in the tables ('' in its own file)
        self._read: tuple[int, dict[str, dict[str, Any]]] | None = None  # see preload()

    def preload(self, *, empty: bool = False) -> None:
        """Read the list now (in the thread that opens the store), for the first :meth:`load`
        (the block's start, on the event loop); ``empty``: the tables are known to be empty
        (a store just made: nothing is read)."""
        self._read = (NO_LIST, {}) if empty else self._load()

    def load(self) -> tuple[int, dict[str, dict[str, Any]]]:
        """The installed version (0: none) and the entries by token key; an unreadable entry is
        skipped."""
        read, self._read = self._read, None
        return read if read is not None else self._load()

    def _load(self) -> tuple[int, dict[str, dict[str, Any]]]:
        key = self._station
        row = self._db.execute(
            "SELECT version FROM local_auth_list_version WHERE station = ?", (key,)
        ).fetchone()
        version = NO_LIST if row is None else int(row[0])
        entries: dict[str, dict[str, Any]] = {}
        rows = self._db.execute(
            "SELECT token_key, id_token_info FROM local_auth_list WHERE station = ?", (key,)
        )
        for token_key, text in rows:
            try:
                info = json.loads(text)
            except ValueError:
                continue
            if isinstance(info, dict):
                entries[str(token_key)] = info
        return version, entries

    def apply(self, outcome: Outcome) -> None:
        """Write an Accepted update: all of it, or (on any error, raised) nothing."""
        assert outcome.accepted
        db, station = self._db, self._station
        with transaction(db):
            if outcome.replace:
                db.execute("DELETE FROM local_auth_list WHERE station = ?", (station,))
            if outcome.removals:
                db.executemany(
                    "DELETE FROM local_auth_list WHERE station = ? AND token_key = ?",
                    [(station, k) for k in sorted(outcome.removals)],
                )
            if outcome.upserts:
                db.executemany(
                    "INSERT OR REPLACE INTO local_auth_list (station, token_key, id_token_info) "
                    "VALUES (?, ?, ?)",
                    [
                        (station, k, json.dumps(v, separators=(",", ":"), allow_nan=False))
                        for k, v in outcome.upserts.items()
                    ],
                )
            db.execute(
                "INSERT OR REPLACE INTO local_auth_list_version (station, version) VALUES (?, ?)",
                (station, outcome.version),
            )
