"""The station's own diagnostics log: ``<data_dir>/logs/diagnostics.log``, rotated and bounded.

Every record of the station's logger (at the logger's level) is written with an RFC 3339 UTC
timestamp from the station clock (the CSMS-synchronised one, so GetLog's time window means the
same time on both sides).  The file rotates at :data:`MAX_BYTES` and keeps :data:`BACKUPS` old
files, so the log never takes more than ``MAX_BYTES * (BACKUPS + 1)`` on disk.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from ocpp_station.clock import iso

MAX_BYTES = 1_000_000
BACKUPS = 3
FILENAME = "diagnostics.log"


class _PrivateRotatingFileHandler(logging.FileHandler):
    """The log file, rotated at ``max_bytes`` into ``backups`` old files (``.1`` the newest),
    every file it opens (the log and, after a rotation, the new one) mode 0600.

    The rotation of ``logging.handlers.RotatingFileHandler``, made on the core FileHandler:
    importing ``logging.handlers`` would cost every start ~8 ms and ~0.6 MiB (it pulls in
    socket, pickle and queue) for a dozen lines.

    The file is opened for each record and closed after it, so a station holds no descriptor
    for its log between records (a fleet of 10,000 stations must not hold 10,000 log files
    open: issue 19); a station writes few records, and each is on disk when ``emit`` returns."""

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        self.max_bytes = max_bytes
        self.backups = backups
        super().__init__(path, mode="a", encoding="utf-8", delay=True)

    def _open(self):  # type: ignore[no-untyped-def]
        folder = os.path.dirname(self.baseFilename)
        if not os.path.isdir(folder):  # made with the first record (a fleet station may never log)
            os.makedirs(folder, mode=0o700, exist_ok=True)
            os.chmod(folder, 0o700)  # the data directory's rule: only the station reads it
        stream = super()._open()
        os.chmod(self.baseFilename, 0o600)
        return stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self._should_rotate(record):
                self._rotate()
            super().emit(record)
        except Exception:
            self.handleError(record)
        stream, self.stream = self.stream, None
        if stream is not None:
            try:
                stream.close()  # flushes: a full disk may fail here
            except Exception:
                self.handleError(record)

    def _should_rotate(self, record: logging.LogRecord) -> bool:
        if not os.path.isfile(self.baseFilename):  # e.g. /dev/null: never rotated
            return False
        if self.stream is None:
            self.stream = self._open()
        text = f"{self.format(record)}{self.terminator}"
        self.stream.seek(0, 2)
        return bool(self.stream.tell() + len(text) >= self.max_bytes)

    def _rotate(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        for n in range(self.backups - 1, 0, -1):
            older = f"{self.baseFilename}.{n}"
            if os.path.exists(older):
                os.replace(older, f"{self.baseFilename}.{n + 1}")
        if self.backups > 0:
            os.replace(self.baseFilename, f"{self.baseFilename}.1")
        self.stream = self._open()


class _ClockFormatter(logging.Formatter):
    def __init__(self, now: Callable[[], float]) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._now = now

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return iso(self._now())


class DiagnosticsLog:
    def __init__(self, folder: Path, now: Callable[[], float]) -> None:
        self.folder = folder
        self._now = now
        self._handler: logging.Handler | None = None
        self._logger: logging.Logger | None = None

    @property
    def path(self) -> Path:
        return self.folder / FILENAME

    def attach(self, logger: logging.Logger) -> None:
        """Start writing ``logger``'s records to the file (its folder is made with the first
        record: a system call less per start of a fleet station, which may never log)."""
        self.detach()
        handler = _PrivateRotatingFileHandler(self.path, MAX_BYTES, BACKUPS)
        handler.setFormatter(_ClockFormatter(self._now))
        logger.addHandler(handler)
        self._handler, self._logger = handler, logger

    def detach(self) -> None:
        if self._handler is not None and self._logger is not None:
            self._logger.removeHandler(self._handler)
            self._handler.close()
        self._handler = self._logger = None

    def files(self) -> list[Path]:
        """The log files, oldest first."""
        backups = [self.folder / f"{FILENAME}.{n}" for n in range(BACKUPS, 0, -1)]
        return [p for p in [*backups, self.path] if p.is_file()]

    def lines(self) -> list[str]:
        """Every line of the log, oldest first (read from disk: call it in a worker thread)."""
        if self._handler is not None:
            self._handler.flush()
        out: list[str] = []
        for path in self.files():
            with path.open(encoding="utf-8", errors="replace") as f:
                out.extend(f)
        return out
