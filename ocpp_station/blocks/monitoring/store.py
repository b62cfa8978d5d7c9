"""The monitors in force, in the station store (table ``variable_monitors``, migration 4).

Custom and preconfigured monitors persist across a reboot (N04 remark, N07.FR.13) with the
tripped state of threshold monitors (N07.FR.14); hard-wired ones come from the firmware's data at
every start and are not stored.  Each write is one committed transaction of the station store.

A first start's factory defaults are not written at the start (:meth:`MonitorStore.defer_defaults`):
until anything about the monitors changes, the next start computes the very same set again, so
they go to the table with the first write that needs them, in its transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from ocpp_station.blocks.monitoring.monitors import HARD_WIRED, Address, Monitor
from ocpp_station.storage.connection import transaction

_COLUMNS = (
    "id, kind, component, component_instance, evse, connector, variable, variable_instance, "
    "type, value, severity, tx, tripped"
)
_INSERT = f"INSERT INTO variable_monitors (station, {_COLUMNS}) VALUES ({', '.join('?' * 14)})"


def _row(m: Monitor) -> tuple[object, ...]:
    a = m.address
    return (
        m.id,
        m.kind,
        a.component,
        a.component_instance or "",
        a.evse,
        a.connector,
        a.variable,
        a.variable_instance or "",
        m.type,
        m.value,
        m.severity,
        int(m.transaction),
        int(m.tripped),
    )


class MonitorStore:
    """Monitor rows on the station store's connection (which it does not own)."""

    def __init__(self, connection: sqlite3.Connection, *, station: str = "") -> None:
        self._db = connection
        self._station = station  # the station's key in the table ('' in its own file)
        # the deferred factory defaults: their rows, and the write that goes with them
        self._pending: tuple[list[tuple[object, ...]], Callable[[], None]] | None = None

    def load(self) -> list[Monitor]:
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM variable_monitors WHERE station = ? ORDER BY id",
            (self._station,),
        )
        return [
            Monitor(
                id=row[0],
                kind=row[1],
                address=Address(row[2], row[3] or None, row[4], row[5], row[6], row[7] or None),
                type=row[8],
                value=row[9],
                severity=row[10],
                transaction=bool(row[11]),
                tripped=bool(row[12]),
            )
            for row in rows
        ]

    def save(self, monitors: Iterable[Monitor]) -> None:
        """Insert or replace these monitors (hard-wired ones are skipped)."""
        rows = [self._row(m) for m in monitors if m.kind != HARD_WIRED]
        if rows:
            with self._writing():
                self._db.executemany(_INSERT.replace("INSERT", "INSERT OR REPLACE", 1), rows)

    def delete(self, ids: Iterable[int]) -> None:
        with self._writing():
            self._db.executemany(
                "DELETE FROM variable_monitors WHERE station = ? AND id = ?",
                [(self._station, i) for i in ids],
            )

    def replace_all(
        self, monitors: Iterable[Monitor], *, also: Callable[[], None] | None = None
    ) -> None:
        """The whole set at once (SetMonitoringBase), in one transaction; ``also()`` (more
        writes on the same connection) runs inside that transaction."""
        rows = [self._row(m) for m in monitors if m.kind != HARD_WIRED]
        with self._writing():
            self._replace(rows, also)

    def defer_defaults(self, monitors: Iterable[Monitor], *, also: Callable[[], None]) -> None:
        """A first start's factory defaults (hard-wired ones skipped) and ``also`` (the record
        that says they were set): written with this store's first write, or by
        :meth:`record`, in that write's transaction."""
        self._pending = ([self._row(m) for m in monitors if m.kind != HARD_WIRED], also)

    def record(self, save: Callable[[], None]) -> None:
        """``save()`` (a write of the block's state record on the same connection): with the
        deferred defaults, if any, in one transaction (their ``also`` is that record)."""
        if self._pending is None:
            save()
            return
        with self._writing():
            pass  # the deferred write is the record's too

    def _row(self, m: Monitor) -> tuple[object, ...]:
        return (self._station, *_row(m))

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One transaction, the deferred defaults first; they stay deferred if it fails."""
        pending = self._pending
        with transaction(self._db):
            if pending is not None:
                self._replace(*pending)
            yield
        self._pending = None

    def _replace(self, rows: list[tuple[object, ...]], also: Callable[[], None] | None) -> None:
        self._db.execute("DELETE FROM variable_monitors WHERE station = ?", (self._station,))
        self._db.executemany(_INSERT, rows)
        if also is not None:
            also()
