"""The state facet of the station store: small JSON records the blocks keep over a restart.

One row per station and key in the ``state`` table (e.g. ``availability``, ``auth.cache``,
``station.boot``, ``tx.<evse>``), the value a JSON object.  Each :meth:`StateRecords.save` is one
committed SQLite transaction under the store's ``synchronous=FULL`` policy.  A record that must
change together with queued messages (a transaction's engine state and its TransactionEvents) is
written through :meth:`ocpp_station.storage.messages.MessageQueue.push_batch` instead, in the
same transaction.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from typing import Any

from ocpp_station.storage.connection import unsynced

SAVE_SQL = "INSERT OR REPLACE INTO state (station, key, value) VALUES (?, ?, ?)"


def encode_state(key: str, value: dict[str, Any] | None) -> str:
    """The stored text of a record; ``ValueError`` for a bad key or a value that is not a
    JSON-serialisable dict (checked before anything is written)."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"state key must be a non-empty string, not {key!r}")
    if not isinstance(value, dict):
        raise ValueError(f"state for {key!r} must be a dict, not {type(value).__name__}")
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"state for {key!r} is not JSON-serialisable: {exc}") from exc


class StateRecords:
    """Key → JSON object records of one station (``station``: its key in the table, '' in its
    own file) on the store's connection (which it does not own)."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        *,
        logger: logging.Logger | None = None,
        station: str = "",
    ) -> None:
        self._db = connection
        self._station = station
        self._log = logger or logging.getLogger("ocpp_station.storage")
        self._read: dict[str, str] | None = None  # every record, while :meth:`preload` holds

    def preload(self, *, empty: bool = False) -> None:
        """Read every record in one statement, for the loads of a start (a dozen blocks load
        theirs): ``StationStore.open`` calls it in its worker thread, so the start reads none
        on the event loop.  Writes through this object keep it current; :meth:`release` (at
        the end of the start) drops it, and loads read the table again.  ``empty``: the table
        is known to be empty (a store just made: nothing is read)."""
        rows = (
            []
            if empty
            else self._db.execute(
                "SELECT key, value FROM state WHERE station = ?", (self._station,)
            ).fetchall()
        )
        self._read = dict(rows)

    def release(self) -> None:
        self._read = None

    def written(self, key: str, text: str) -> None:
        """``text`` was committed under ``key`` by another writer of the table (a queued
        TransactionEvent with its engine state)."""
        if self._read is not None:
            self._read[key] = text

    def load(self, key: str) -> dict[str, Any] | None:
        """The record saved under ``key``; None when there is none (or it is unreadable)."""
        if self._read is not None:
            text = self._read.get(key)
            return None if text is None else self._decode(key, text)
        row = self._db.execute(
            "SELECT value FROM state WHERE station = ? AND key = ?", (self._station, key)
        ).fetchone()
        return None if row is None else self._decode(key, row[0])

    def save(self, key: str, value: dict[str, Any], *, synced: bool = True) -> None:
        """Replace the record under ``key`` (committed when this returns).

        ``synced=False``: committed without a sync of its own (:func:`.connection.unsynced`),
        only for what a start after a power cut rebuilds identically (a first start's
        defaults); the station's next synced commit syncs it."""
        text = encode_state(key, value)
        if synced:
            self._db.execute(SAVE_SQL, (self._station, key, text))
        else:
            with unsynced(self._db):
                self._db.execute(SAVE_SQL, (self._station, key, text))
        self.written(key, text)

    def delete(self, key: str) -> None:
        self._db.execute("DELETE FROM state WHERE station = ? AND key = ?", (self._station, key))
        if self._read is not None:
            self._read.pop(key, None)

    def items(self) -> list[tuple[str, dict[str, Any]]]:
        """Every readable record, ordered by key."""
        out: list[tuple[str, dict[str, Any]]] = []
        rows = self._db.execute(
            "SELECT key, value FROM state WHERE station = ? ORDER BY key", (self._station,)
        )
        for key, text in rows:
            value = self._decode(key, text)
            if value is not None:
                out.append((key, value))
        return out

    def _decode(self, key: str, text: str) -> dict[str, Any] | None:
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, dict):
            return value
        # a damaged record must not stop the station from starting: its owner starts afresh
        self._log.warning("state record %r is unreadable and is ignored", key)
        return None
