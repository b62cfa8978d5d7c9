"""The security log (A04.FR.04): every security event, critical or not, in the station store.

Table ``security_log`` (migration 5), one row per event in the order raised (``seq``).  The log
is rolling (the A04.FR.04 note recommends it): it keeps the newest :data:`LIMIT` events and
drops the oldest right after adding a new one (a power cut between the two leaves one extra
event until the next append).
Dropping the oldest is not a clearing of the log (no ``SecurityLogWasCleared``): the station
has no operation that clears it.  Key material never reaches it (A01.FR.12): callers give only
the event type and a technical description.

:func:`log_line` is the text form GetLog(SecurityLog) uploads, one line per event, starting with
the event's RFC 3339 timestamp (so GetLog's time window selects lines, N01).
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass

from ocpp_station.storage.connection import unsynced

LIMIT = 1000  # events kept; the oldest beyond it are dropped


@dataclass(frozen=True)
class LogEntry:
    seq: int
    timestamp: str
    type: str
    tech_info: str | None
    critical: bool


def log_line(entry: LogEntry) -> str:
    """``<timestamp> <type> critical=<yes|no> seq=<n>[ techInfo=<text>]`` and a newline; a
    newline inside the techInfo is written as a space (one event, one line)."""
    line = (
        f"{entry.timestamp} {entry.type} critical={'yes' if entry.critical else 'no'} "
        f"seq={entry.seq}"
    )
    if entry.tech_info:
        line += " techInfo=" + " ".join(entry.tech_info.splitlines())
    return line + "\n"


class SecurityLogStore:
    """One station's rows of the ``security_log`` table (``station``: its key, '' in its own
    file) on the station store's connection (which it does not own).  ``empty``: the table is
    known to hold none of the station's rows (a store just made: nothing is counted)."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        *,
        limit: int = LIMIT,
        station: str = "",
        empty: bool = False,
    ) -> None:
        if limit < 1:
            raise ValueError(f"the security log must keep at least one event, not {limit}")
        self._db = connection
        self.limit = limit
        self._station = station
        self._count: int | None = 0 if empty else None  # the station's rows (None: not counted)

    def append(
        self,
        timestamp: str,
        kind: str,
        tech_info: str | None,
        critical: bool,
        *,
        synced: bool = True,
    ) -> LogEntry:
        """Write one event (committed when this returns) and drop what is beyond the limit.

        ``synced=False``: the commit is not synced by itself, for a caller whose very next
        statement is a synced commit on the same store (a critical event's queued
        notification), which syncs both."""
        with contextlib.nullcontext() if synced else unsynced(self._db):
            count = len(self) if self._count is None else self._count
            self._count = None  # (counted again should a statement below fail)
            cursor = self._db.execute(
                "INSERT INTO security_log (station, timestamp, type, tech_info, critical) "
                "VALUES (?, ?, ?, ?, ?)",
                (self._station, timestamp, kind, tech_info, int(critical)),
            )
            seq = int(cursor.lastrowid or 0)
            count += 1
            if count > self.limit:  # the oldest go (no statement while the log is not full)
                self._db.execute(
                    "DELETE FROM security_log WHERE seq IN (SELECT seq FROM security_log "
                    "WHERE station = ? ORDER BY seq LIMIT ?)",
                    (self._station, count - self.limit),
                )
                count = self.limit
        self._count = count
        return LogEntry(seq, timestamp, kind, tech_info, critical)

    def entries(self) -> list[LogEntry]:
        """Every kept event, oldest first."""
        rows = self._db.execute(
            "SELECT seq, timestamp, type, tech_info, critical FROM security_log "
            "WHERE station = ? ORDER BY seq",
            (self._station,),
        ).fetchall()
        return [LogEntry(int(s), str(t), str(k), i, bool(c)) for s, t, k, i, c in rows]

    def lines(self) -> list[str]:
        return [log_line(entry) for entry in self.entries()]

    def __len__(self) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) FROM security_log WHERE station = ?", (self._station,)
        ).fetchone()
        return int(row[0])
