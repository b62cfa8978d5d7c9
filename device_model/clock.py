"""The time the device model reads: a clock Protocol of its own and RFC 3339 formatting.

The device model needs only the current time (``ClockCtrlr.DateTime``), so it asks for an object
with ``time()`` and nothing else; any clock with that method fits, the station's included.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """A source of the current time."""

    def time(self) -> float:
        """UTC epoch seconds."""
        ...


def iso(ts: float) -> str:
    """RFC 3339 UTC timestamp with milliseconds, as OCPP 2.0.1 messages carry it."""
    dt = datetime.fromtimestamp(ts, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
