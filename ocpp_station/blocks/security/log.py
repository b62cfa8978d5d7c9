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
    """The ``security_log`` table on the station store's connection (which it does not own)."""

    def __init__(self, connection: sqlite3.Connection, *, limit: int = LIMIT) -> None:
        if limit < 1:
            raise ValueError(f"the security log must keep at least one event, not {limit}")
        self._db = connection
        self.limit = limit

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
            cursor = self._db.execute(
                "INSERT INTO security_log (timestamp, type, tech_info, critical) "
                "VALUES (?, ?, ?, ?)",
                (timestamp, kind, tech_info, int(critical)),
            )
            seq = int(cursor.lastrowid or 0)
            if seq > self.limit:  # the oldest go (no statement while the log is not full)
                self._db.execute("DELETE FROM security_log WHERE seq <= ?", (seq - self.limit,))
        return LogEntry(seq, timestamp, kind, tech_info, critical)

    def entries(self) -> list[LogEntry]:
        """Every kept event, oldest first."""
        rows = self._db.execute(
            "SELECT seq, timestamp, type, tech_info, critical FROM security_log ORDER BY seq"
        ).fetchall()
        return [LogEntry(int(s), str(t), str(k), i, bool(c)) for s, t, k, i, c in rows]

    def lines(self) -> list[str]:
        return [log_line(entry) for entry in self.entries()]

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM security_log").fetchone()[0])
