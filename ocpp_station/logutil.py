"""Small logging helpers for call sites a misbehaving peer can trigger over and over.

:class:`RateLimitedLog` lets at most ``burst`` records of one kind through per ``window`` seconds
and then says, once, how many it held back: a CSMS that sends 100,000 bad frames costs a few lines
of log, not megabytes of a charger's flash.  :class:`RedactingLogger` is the logger handed to the
websocket library: it never lets an ``Authorization`` header (the station's Basic-auth password)
or a frame's content reach the log, at any level.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

REDACTED = "[redacted]"
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


@dataclass
class _Window:
    start: float
    passed: int = 0
    held: int = 0


class RateLimitedLog:
    """``log(level, key, msg, *args)``: like ``logger.log`` but at most ``burst`` records per
    ``key`` in each ``window`` seconds of ``now()`` (an injected clock).  The first record of a
    new window reports how many of that key were held back in the previous one."""

    def __init__(
        self,
        logger: logging.Logger | logging.LoggerAdapter[Any],
        now: Callable[[], float],
        *,
        burst: int = 5,
        window: float = 60.0,
        max_keys: int = 256,
    ) -> None:
        self.logger = logger
        self._now = now
        self.burst = burst
        self.window = window
        self._max_keys = max_keys
        self._windows: dict[str, _Window] = {}

    def log(self, level: int, key: str, msg: str, *args: Any) -> bool:
        """Log unless this key is over its budget; True when the record went out."""
        if not self.logger.isEnabledFor(level):
            return False
        now = self._now()
        state = self._windows.get(key)
        if state is None or now - state.start >= self.window:
            if state is not None and state.held:
                self.logger.log(
                    level,
                    "%d more similar message(s) (%s) held back in the last %g s",
                    state.held,
                    key,
                    now - state.start,
                )
            if state is None and len(self._windows) >= self._max_keys:
                self._windows.pop(next(iter(self._windows)))  # keys are bounded too
            state = self._windows[key] = _Window(now)
        if state.passed >= self.burst:
            state.held += 1
            return False
        state.passed += 1
        self.logger.log(level, msg, *args)
        return True

    def warning(self, key: str, msg: str, *args: Any) -> bool:
        return self.log(logging.WARNING, key, msg, *args)

    def error(self, key: str, msg: str, *args: Any) -> bool:
        return self.log(logging.ERROR, key, msg, *args)

    def held(self, key: str) -> int:
        """Records of ``key`` held back in its current window (for tests and ``status``)."""
        state = self._windows.get(key)
        return 0 if state is None else state.held


class RedactingLogger(logging.LoggerAdapter[logging.Logger]):
    """A logger for the websocket library that never logs a secret.

    Header lines (``"> %s: %s"``) of the secret headers get their value replaced, and frame lines
    carry only the frame kind and size: a frame's text may hold a password (a SetVariables of
    ``BasicAuthPassword``).  Everything else passes unchanged."""

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__(logger, {})

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if self.isEnabledFor(level):
            self.logger.log(level, msg, *redact_args(msg, args), **kwargs)

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        return msg, kwargs


def redact_args(msg: object, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The ``args`` of a websockets log record with secrets taken out."""
    if len(args) == 2 and isinstance(args[0], str) and args[0].lower() in _SECRET_HEADERS:
        return (args[0], REDACTED)
    if msg in ("> %s", "< %s") and len(args) == 1 and not isinstance(args[0], str):
        frame = args[0]  # a websockets Frame: keep its kind and size only
        opcode = getattr(getattr(frame, "opcode", None), "name", "?")
        data = getattr(frame, "data", b"")
        return (f"{opcode} [{len(data)} bytes]",)
    return args
