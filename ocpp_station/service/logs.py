"""The log of ``ocpp-station run`` and ``fleet``: text or JSON lines, journal-aware, secret-free.

- **Formats.** ``text``: ``<time> <LEVEL> <logger>: <message>``.  ``json``: one object per line
  with ``ts`` (ISO 8601 UTC), ``level``, ``station`` (the station id, when the record came from a
  station), ``component`` (``transport``, ``rpc``, ``transactions``, ``hal``... from the module
  that logged), ``logger``, ``message``, ``message_id`` (the OCPP message id, when the record is
  about one message) and ``exc`` (a traceback, when there is one).
- **Under systemd** (``JOURNAL_STREAM`` names our standard error) no timestamp of our own is
  written (the journal stamps each line) and each line starts with its syslog priority (``<4>``
  for a warning), which journald turns into the entry's ``PRIORITY`` and strips.
- **No secrets** at any level: every finished line goes through :func:`~.redact.redact`.
- **Repeated warnings summarized**: a warning or error logged again from the same place within
  ``window`` seconds is held back; the next one after the window says how many were held back
  (``(and 41 more like it in the last 60 s)``).  :class:`RepeatSummary` is the pure rule.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from ocpp_station.service.redact import redact

__all__ = [
    "JsonFormatter",
    "RepeatFilter",
    "RepeatSummary",
    "StationTag",
    "TextFormatter",
    "component_of",
    "setup_logging",
    "under_journal",
]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JOURNAL_TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"
REPEAT_WINDOW = 60.0  # seconds
HANDLER_NAME = "ocpp-station"

# sd-daemon(3) priority prefixes
_SYSLOG_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


def syslog_priority(levelno: int) -> int:
    for level in (logging.CRITICAL, logging.ERROR, logging.WARNING, logging.INFO):
        if levelno >= level:
            return _SYSLOG_PRIORITY[level]
    return 7


def under_journal(env: Mapping[str, str], stream: IO[str] | None) -> bool:
    """True when ``stream`` is the journal connection systemd gave us: ``JOURNAL_STREAM`` is
    ``<device>:<inode>`` of that very descriptor (systemd.exec(5))."""
    value = env.get("JOURNAL_STREAM", "")
    dev, _, ino = value.partition(":")
    if not (dev.isdigit() and ino.isdigit()) or stream is None:
        return False
    try:
        st = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (int(dev), int(ino))


def component_of(pathname: str, logger: str) -> str:
    """The part of the project a record comes from, by the file that logged it: the block name
    for ``ocpp_station/blocks/<block>/``, else the module or package under ``ocpp_station/``,
    ``hal`` or ``device_model``; for a library, the first part of its logger name."""
    parts = pathname.replace("\\", "/").split("/")
    for top in ("ocpp_station", "hal", "device_model"):
        if top in parts:
            rest = parts[len(parts) - 1 - parts[::-1].index(top) + 1 :]
            if top != "ocpp_station":
                return top
            if len(rest) >= 2 and rest[0] == "blocks":
                return rest[1].removesuffix(".py")
            if rest:
                return rest[0].removesuffix(".py")
    return logger.split(".", 1)[0]


class StationTag(logging.Filter):
    """Marks the records of one station's logger with ``record.station`` (the JSON ``station``)."""

    def __init__(self, station_id: str) -> None:
        super().__init__()
        self.station_id = station_id

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "station"):
            record.station = self.station_id
        return True


@dataclass
class _Seen:
    start: float
    held: int = 0


class RepeatSummary:
    """Which repeats of a message to let through (pure, fed with the record time).

    :meth:`admit` returns ``(emit, held)``: the first record of a key in a window is emitted; the
    others in the window are held back (counted); the first one after the window is emitted with
    the number held back, and opens a new window.
    """

    def __init__(self, window: float = REPEAT_WINDOW, max_keys: int = 1000) -> None:
        self.window = window
        self._prune_at = max_keys
        self._max_keys = max_keys
        self._seen: dict[tuple[Any, ...], _Seen] = {}

    def admit(self, key: tuple[Any, ...], now: float) -> tuple[bool, int]:
        seen = self._seen.get(key)
        if seen is not None and now - seen.start < self.window:
            seen.held += 1
            return False, 0
        held = seen.held if seen is not None else 0
        self._seen[key] = _Seen(now)
        if len(self._seen) > self._prune_at:  # forget the quiet ones (amortized: a big fleet
            self._seen = {k: s for k, s in self._seen.items() if now - s.start < self.window}
            self._prune_at = max(self._max_keys, 2 * len(self._seen))  # has many live keys)
        return True, held


class RepeatFilter(logging.Filter):
    """A handler filter applying :class:`RepeatSummary` to warnings and errors (keyed by logger,
    level, and the message's format string, so changing arguments still count as a repeat)."""

    def __init__(self, window: float = REPEAT_WINDOW) -> None:
        super().__init__()
        self.summary = RepeatSummary(window)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.levelno, record.pathname, record.lineno, str(record.msg))
        emit, held = self.summary.admit(key, record.created)
        if emit and held:
            record.repeated = (held, self.summary.window)
        return emit


def _repeat_note(record: logging.LogRecord) -> str:
    repeated = getattr(record, "repeated", None)
    if not repeated:
        return ""
    held, window = repeated
    return f" (and {held} more like it in the last {window:g} s)"


class _Redacting(logging.Formatter):
    def __init__(self, journal: bool, secrets: Iterable[str], fmt: str | None = None) -> None:
        super().__init__(fmt)
        self.journal = journal
        self.secrets = tuple(s for s in secrets if s)

    def _finish(self, record: logging.LogRecord, line: str) -> str:
        line = redact(line, self.secrets)
        if self.journal:
            line = f"<{syslog_priority(record.levelno)}>" + line.replace("\n", " | ")
        return line


class TextFormatter(_Redacting):
    """``<time> <LEVEL> <logger>: <message>``; without the time under the journal."""

    def __init__(self, journal: bool = False, secrets: Iterable[str] = ()) -> None:
        super().__init__(journal, secrets, JOURNAL_TEXT_FORMAT if journal else TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return self._finish(record, super().format(record) + _repeat_note(record))


class JsonFormatter(_Redacting):
    """One JSON object per line (see the module documentation for the fields)."""

    def __init__(self, journal: bool = False, secrets: Iterable[str] = ()) -> None:
        super().__init__(journal, secrets)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {}
        if not self.journal:
            ts = datetime.fromtimestamp(record.created, UTC)
            entry["ts"] = ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        entry["level"] = record.levelname
        station = getattr(record, "station", None)
        if station is not None:
            entry["station"] = station
        entry["component"] = getattr(record, "component", None) or component_of(
            record.pathname, record.name
        )
        entry["logger"] = record.name
        message_id = getattr(record, "message_id", None)
        if message_id is not None:
            entry["message_id"] = str(message_id)
        # masked before JSON escapes the quotes the patterns look for
        entry["message"] = redact(record.getMessage() + _repeat_note(record), self.secrets)
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info), self.secrets)
        elif record.exc_text:
            entry["exc"] = redact(record.exc_text, self.secrets)
        return self._finish(record, json.dumps(entry, ensure_ascii=False, default=str))


def setup_logging(
    level: str,
    fmt: str = "text",
    *,
    stream: IO[str] | None = None,
    env: Mapping[str, str] | None = None,
    secrets: Iterable[str] = (),
    repeat_window: float = REPEAT_WINDOW,
) -> logging.Handler:
    """Send every log record at ``level`` or above to ``stream`` (standard error) in ``fmt``
    (``"text"`` or ``"json"``) through a handler on the root logger (replacing the one an earlier
    call installed; other handlers stay); returns the handler."""
    stream = sys.stderr if stream is None else stream
    journal = under_journal(os.environ if env is None else env, stream)
    handler = logging.StreamHandler(stream)
    formatter: logging.Formatter = (
        JsonFormatter(journal, secrets) if fmt == "json" else TextFormatter(journal, secrets)
    )
    handler.setFormatter(formatter)
    handler.addFilter(RepeatFilter(repeat_window))
    handler.set_name(HANDLER_NAME)
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == HANDLER_NAME:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
