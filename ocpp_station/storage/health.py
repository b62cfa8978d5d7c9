"""Whether the station store can write: a full disk or a medium gone read-only, seen and reported.

Every statement on the store's connection goes through :class:`ObservedConnection`.  A write that
fails for want of space or of a writable medium (SQLite's FULL, IOERR, READONLY, CANTOPEN) is
raised as :class:`StorageUnavailable` — still an ``sqlite3.OperationalError`` — and recorded in the
store's :class:`StorageHealth`: one error line in the log (repeats are held back), and ``status``
shows it.  The next write that commits clears it (logged too): the station recovers by itself
when space returns, helped by :meth:`StationStore.probe` which the station runs while it lasts.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ocpp_station.logutil import RateLimitedLog
from ocpp_station.storage.connection import StorageError

# SQLite primary result codes (the low byte of an extended code) that mean "cannot write here".
_SQLITE_READONLY = 8
_SQLITE_IOERR = 10
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14
_UNAVAILABLE = frozenset({_SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_FULL, _SQLITE_CANTOPEN})
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "COMMIT")


class StorageUnavailable(StorageError, sqlite3.OperationalError):
    """A write failed because the store cannot write now (disk full, read-only, I/O error).

    Callers that must answer anyway catch it: a SetChargingProfile is Rejected (OutOfStorage), a
    transaction keeps its events until they can be written, and energy stays off meanwhile."""


def is_unavailable(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return (code & 0xFF) in _UNAVAILABLE
    text = str(exc).lower()
    return any(s in text for s in ("disk is full", "readonly", "disk i/o", "unable to open"))


class StorageHealth:
    def __init__(
        self,
        path: str,
        *,
        logger: logging.Logger | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self._now = now
        self._log = RateLimitedLog(
            logger or logging.getLogger("ocpp_station.storage"), now, burst=1
        )
        self.error: str | None = None
        self.since: float | None = None
        self.failures = 0
        self.on_failure: Callable[[], None] | None = None  # the station's watch wakes up

    @property
    def ok(self) -> bool:
        return self.error is None

    def failed(self, exc: BaseException) -> None:
        self.failures += 1
        if self.error is None:
            self.since = self._now()
        self.error = str(exc)
        self._log.error(
            "storage",
            "storage: cannot write %s: %s (queued messages, transactions and settings wait; "
            "energy stays off for a transaction that is not recorded)",
            self.path,
            exc,
        )
        if self.on_failure is not None:
            self.on_failure()

    def succeeded(self) -> None:
        if self.error is None:
            return
        lasted = self._now() - (self.since or self._now())
        self._log.logger.warning("storage: %s writable again after %.0f s", self.path, lasted)
        self.error = None
        self.since = None

    def describe(self) -> dict[str, Any]:
        """For ``status``: ``{"ok": true}`` or ``{"ok": false, "error", "since"}``."""
        if self.error is None:
            return {"ok": True}
        return {"ok": False, "error": self.error, "since": self.since}


class ObservedConnection(sqlite3.Connection):
    """An ``sqlite3.Connection`` that reports write trouble to its :class:`StorageHealth`, and
    keeps the store's ``synchronous`` level (:meth:`relaxed`)."""

    health: StorageHealth | None = None
    _relaxed = 0  # the depth of relaxed() blocks running
    _normal = False  # synchronous=NORMAL since a relaxed() block; FULL not restored yet

    @contextlib.contextmanager
    def relaxed(self) -> Iterator[None]:
        """Commits inside are not synced by themselves (``synchronous=NORMAL``; WAL keeps them
        consistent): see :func:`.connection.unsynced`.  ``FULL`` comes back before the next
        statement outside such a block that may write (anything but a ``SELECT``), not at the
        end of the block: a start that makes several unsynced commits in a row, with reads
        between them, sets the level once instead of twice per commit."""
        self.relax()
        self._relaxed += 1
        try:
            yield
        finally:
            self._relaxed -= 1

    def relax(self) -> None:
        """``synchronous=NORMAL`` now, and ``FULL`` back as after a :meth:`relaxed` block:
        before the next statement outside such a block that may write (a new copy's open, see
        :meth:`.store.StationStore.open`: the unsynced commits of a start need no level of
        their own)."""
        if not self._normal:
            super().execute("PRAGMA synchronous=NORMAL")
            self._normal = True

    def _restore(self, sql: str) -> None:
        if not self._relaxed and sql.lstrip()[:6].upper() != "SELECT":
            super().execute("PRAGMA synchronous=FULL")
            self._normal = False

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        if self._normal:
            self._restore(sql)
        try:
            cursor = super().execute(sql, parameters)
        except sqlite3.OperationalError as exc:
            if not is_unavailable(exc):
                raise
            raise self._failed(exc) from exc
        self._wrote(sql)
        return cursor

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        if self._normal:
            self._restore(sql)
        try:
            cursor = super().executemany(sql, parameters)
        except sqlite3.OperationalError as exc:
            if not is_unavailable(exc):
                raise
            raise self._failed(exc) from exc
        self._wrote(sql)
        return cursor

    def _failed(self, exc: sqlite3.OperationalError) -> StorageUnavailable:
        if self.health is not None:
            self.health.failed(exc)
        unavailable = StorageUnavailable(str(exc))
        code = getattr(exc, "sqlite_errorcode", None)
        if isinstance(code, int):
            unavailable.sqlite_errorcode = code
        return unavailable

    def _wrote(self, sql: str) -> None:
        health = self.health
        if health is None or health.ok or self.in_transaction:
            return  # only a committed write shows that the store can write again
        if sql.lstrip()[:7].upper().startswith(_WRITES):
            health.succeeded()
