"""What the status pages show of the OCPP traffic (pure: fed with frames and the time).

- :class:`RecentFrames`: the last messages in and out of one station, secrets masked, each with
  its message type, message id and action (a CALLRESULT/CALLERROR is named after its CALL).
- :class:`FrameStats`: a fleet's traffic: messages per second in and out over the last
  ``window`` seconds, and the round-trip times of the station's CALLs (from the CALL leaving to its
  CALLRESULT or CALLERROR arriving) as percentiles.
"""

from __future__ import annotations

import math
import re
from collections import deque
from dataclasses import dataclass
from typing import Any

from ocpp_station.service.redact import redact

__all__ = ["FrameHead", "FrameStats", "RecentFrames", "frame_head", "percentile"]

CALL, CALLRESULT, CALLERROR = 2, 3, 4
TYPE_NAMES = {CALL: "CALL", CALLRESULT: "CALLRESULT", CALLERROR: "CALLERROR"}

# [<type>, "<message id>"(, "<action>")? ... ] without parsing the whole JSON text
_HEAD = re.compile(
    r'^\s*\[\s*([234])\s*,\s*"((?:[^"\\]|\\.){0,64})"\s*,\s*(?:"([A-Za-z0-9]{1,64})")?'
)


@dataclass(frozen=True)
class FrameHead:
    type: int
    message_id: str
    action: str | None  # CALLs only


def frame_head(text: str) -> FrameHead | None:
    """Type, message id and (for a CALL) action of an OCPP-J frame; None when it is not one."""
    m = _HEAD.match(text)
    if m is None:
        return None
    kind = int(m.group(1))
    return FrameHead(kind, m.group(2), m.group(3) if kind == CALL else None)


class RecentFrames:
    """The last ``size`` frames of one station, newest last, for the station page."""

    def __init__(self, size: int = 30, text_limit: int = 400) -> None:
        self.size = size
        self.text_limit = text_limit
        self._frames: deque[dict[str, Any]] = deque(maxlen=size)
        self._actions: dict[str, str] = {}  # message id -> action of CALLs not answered yet

    def add(self, direction: str, text: str, now: float, secrets: tuple[str, ...] = ()) -> None:
        head = frame_head(text)
        entry: dict[str, Any] = {"t": now, "dir": direction}
        if head is not None:
            entry["type"] = TYPE_NAMES[head.type]
            entry["message_id"] = head.message_id
            if head.type == CALL:
                entry["action"] = head.action
                self._actions[head.message_id] = head.action or ""
                if len(self._actions) > 4 * self.size:  # unanswered ones age out
                    self._actions.pop(next(iter(self._actions)))
            else:
                entry["action"] = self._actions.pop(head.message_id, None)
        shown = redact(text, secrets)
        if len(shown) > self.text_limit:
            shown = shown[: self.text_limit] + "…"
        entry["text"] = shown
        self._frames.append(entry)

    def list(self) -> list[dict[str, Any]]:
        return list(self._frames)


def percentile(sorted_values: list[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) by the nearest-rank method; None for no values."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


class FrameStats:
    """Traffic of many stations: ``add(station, direction, text, now)`` for every frame."""

    def __init__(self, window: float = 10.0, max_samples: int = 20_000) -> None:
        self.window = window
        self.total = {"in": 0, "out": 0}
        self._seconds: deque[list[float]] = deque()  # [second, in, out]
        self._pending: dict[tuple[str, str], float] = {}  # (station, message id) -> sent at
        self._rtts: deque[tuple[float, float]] = deque(maxlen=max_samples)  # (at, seconds)

    def add(self, station: str, direction: str, text: str, now: float) -> None:
        self.total[direction] = self.total.get(direction, 0) + 1
        second = math.floor(now)
        if not self._seconds or self._seconds[-1][0] != second:
            self._seconds.append([second, 0, 0])
            self._trim(now)
        self._seconds[-1][1 if direction == "in" else 2] += 1
        head = frame_head(text)
        if head is None:
            return
        if direction == "out" and head.type == CALL:
            self._pending[(station, head.message_id)] = now
            if len(self._pending) > 100_000:  # calls that were never answered
                self._pending.pop(next(iter(self._pending)))
        elif direction == "in" and head.type in (CALLRESULT, CALLERROR):
            sent = self._pending.pop((station, head.message_id), None)
            if sent is not None:
                self._rtts.append((now, now - sent))

    def _trim(self, now: float) -> None:
        while self._seconds and self._seconds[0][0] < now - self.window - 1:
            self._seconds.popleft()
        while self._rtts and self._rtts[0][0] < now - self.window:
            self._rtts.popleft()

    def snapshot(self, now: float) -> dict[str, Any]:
        """Messages per second (over the last ``window`` full seconds) and round-trip
        percentiles in milliseconds (over the last ``window`` seconds)."""
        self._trim(now)
        current = math.floor(now)
        full = [s for s in self._seconds if current - self.window <= s[0] < current]
        span = self.window
        rtts = sorted(rtt for _, rtt in self._rtts)

        def ms(value: float | None) -> float | None:
            return None if value is None else round(value * 1000, 1)

        return {
            "messages_per_second": {
                "in": round(sum(s[1] for s in full) / span, 1),
                "out": round(sum(s[2] for s in full) / span, 1),
            },
            "messages_total": dict(self.total),
            "round_trip_ms": {
                "samples": len(rtts),
                "p50": ms(percentile(rtts, 0.5)),
                "p90": ms(percentile(rtts, 0.9)),
                "p99": ms(percentile(rtts, 0.99)),
                "max": ms(rtts[-1] if rtts else None),
            },
            "pending_calls": len(self._pending),
        }
