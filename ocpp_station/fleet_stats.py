"""The live picture of a fleet, as numbers (pure: fed with frames, counts and the time).

- :class:`Histogram`: a streaming percentile estimator in constant memory: log-spaced buckets 2 %
  wide, so a percentile is within about 1 % of the true value; two histograms merge exactly (the
  workers of a fleet each keep one, the parent adds them up — percentiles cannot be averaged).
- :class:`RoundTrips`: messages in and out and the round trip of each CALL a station sent (from the
  CALL leaving to its CALLRESULT or CALLERROR arriving), fed with every frame of every station.
- :class:`Snapshot`: one summary (live or final) of one process or, merged, of a whole fleet;
  :func:`merge`, :func:`summary_line` (the one-line summary on stderr) and :func:`to_json` (a JSON
  line for machines; ``wire=True`` adds the histogram for a parent process to merge).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from ocpp_station.http.frames import CALL, CALLERROR, CALLRESULT, frame_head

__all__ = ["Histogram", "RoundTrips", "Snapshot", "merge", "summary_line", "to_json"]

GROWTH = 1.02  # bucket i holds values in [FLOOR * GROWTH**i, FLOOR * GROWTH**(i+1))
FLOOR = 1e-6  # seconds; anything smaller falls in bucket 0
_LOG_GROWTH = math.log(GROWTH)
MAX_PENDING = 100_000  # CALLs awaiting an answer remembered at most (oldest dropped)


class Histogram:
    """Counts of positive values in log-spaced buckets; ``quantile(q)`` by nearest rank."""

    __slots__ = ("buckets", "count")

    def __init__(self, buckets: dict[int, int] | None = None) -> None:
        self.buckets: dict[int, int] = dict(buckets or {})
        self.count = sum(self.buckets.values())

    def add(self, value: float) -> None:
        index = int(math.log(value / FLOOR) / _LOG_GROWTH) if value > FLOOR else 0
        self.buckets[index] = self.buckets.get(index, 0) + 1
        self.count += 1

    def merge(self, other: Histogram) -> None:
        for index, n in other.buckets.items():
            self.buckets[index] = self.buckets.get(index, 0) + n
        self.count += other.count

    def quantile(self, q: float) -> float | None:
        """The ``q`` quantile (0..1): the geometric middle of the bucket holding the value of
        nearest rank ``ceil(q * count)``; None when empty."""
        if not self.count:
            return None
        rank = min(max(1, math.ceil(q * self.count)), self.count)
        seen = 0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen >= rank:
                return float(FLOOR * GROWTH ** (index + 0.5))
        raise AssertionError("unreachable: counts add up to count")  # pragma: no cover

    def to_pairs(self) -> list[list[int]]:
        return [[i, n] for i, n in sorted(self.buckets.items())]

    @classmethod
    def from_pairs(cls, pairs: Iterable[Iterable[int]]) -> Histogram:
        buckets: dict[int, int] = {}
        for pair in pairs:
            try:
                index, n = pair
            except (TypeError, ValueError):
                raise ValueError(f"bad histogram bucket {pair!r}") from None
            if not (isinstance(index, int) and isinstance(n, int) and index >= 0 and n >= 0):
                raise ValueError(f"bad histogram bucket {index!r}: {n!r}")
            buckets[index] = buckets.get(index, 0) + n
        return cls(buckets)


class RoundTrips:
    """Every frame of every station: ``frame(station, "in" | "out", text, now)``.

    Cheap per frame: a prefix match of the frame head (no JSON parsing) and a dict operation.
    ``interval`` collects the round trips since the last :meth:`take_interval`, ``total`` all of
    them.
    """

    def __init__(self) -> None:
        self.messages_in = 0
        self.messages_out = 0
        self.interval = Histogram()
        self.total = Histogram()
        self._pending: dict[tuple[str, str], float] = {}

    def frame(self, station: str, direction: str, text: str, now: float) -> None:
        head = frame_head(text)
        if direction == "out":
            self.messages_out += 1
            if head is not None and head.type == CALL:
                pending = self._pending
                pending[(station, head.message_id)] = now
                if len(pending) > MAX_PENDING:  # CALLs that will never be answered age out
                    del pending[next(iter(pending))]
            return
        self.messages_in += 1
        if head is not None and head.type in (CALLRESULT, CALLERROR):
            sent = self._pending.pop((station, head.message_id), None)
            if sent is not None:
                rtt = max(0.0, now - sent)
                self.interval.add(rtt)
                self.total.add(rtt)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def take_interval(self) -> Histogram:
        taken, self.interval = self.interval, Histogram()
        return taken


@dataclass
class Snapshot:
    """A fleet (or one worker's part of it) at one moment; ``kind`` is ``live`` or ``final``."""

    kind: str
    elapsed: float  # seconds since the fleet began starting
    stations: int  # stations this process (or the whole fleet, merged) is to run
    running: int = 0  # started and not stopped
    connected: int = 0
    registered: int = 0  # registration Accepted
    charging: int = 0  # transactions whose chargingState is Charging
    queued: int = 0  # messages waiting in the persistent queues, summed
    messages_in: int = 0  # since start
    messages_out: int = 0
    messages_per_second: float = 0.0  # live: over the last interval; final: over the run
    rtt: Histogram = field(default_factory=Histogram)  # live: last interval; final: the run
    failed: int = 0  # stations that could not start
    boot_seconds: float | None = None  # the boot storm (slowest worker, merged)
    workers: int = 1
    dead_workers: int = 0  # worker processes that ended on their own with an error
    collect_ms: float = 0.0  # CPU time reading the stations for this snapshot took (merged: max)

    def rtt_ms(self, q: float) -> float | None:
        value = self.rtt.quantile(q)
        return None if value is None else round(value * 1000, 1)


def merge(parts: Iterable[Snapshot], kind: str | None = None) -> Snapshot:
    """The snapshots of several workers as one: counts and rates added, histograms merged, the
    longest elapsed and boot time kept."""
    parts = list(parts)
    if not parts:
        raise ValueError("nothing to merge")
    out = replace(parts[0], rtt=Histogram(), kind=kind or parts[0].kind, workers=0)
    out.elapsed = max(p.elapsed for p in parts)
    boots = [p.boot_seconds for p in parts if p.boot_seconds is not None]
    out.boot_seconds = max(boots) if boots else None
    out.collect_ms = max(p.collect_ms for p in parts)
    for name in (
        "stations", "running", "connected", "registered", "charging", "queued",
        "messages_in", "messages_out", "failed", "workers", "dead_workers",
    ):  # fmt: skip
        setattr(out, name, sum(getattr(p, name) for p in parts))
    out.messages_per_second = round(sum(p.messages_per_second for p in parts), 1)
    for p in parts:
        out.rtt.merge(p.rtt)
    return out


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def summary_line(s: Snapshot) -> str:
    """``fleet 12s: 998/1000 connected, 998 registered, 100 charging | 41.3 msg/s | rtt p50 2.1
    p99 9.8 ms (420) | queued 0`` (a final report starts ``fleet final``)."""
    head = "fleet final" if s.kind == "final" else "fleet"
    line = (
        f"{head} {s.elapsed:.0f}s: {s.connected}/{s.stations} connected, "
        f"{s.registered} registered, {s.charging} charging | "
        f"{s.messages_per_second:.1f} msg/s | rtt p50 {_ms(s.rtt_ms(0.5))} "
        f"p99 {_ms(s.rtt_ms(0.99))} ms ({s.rtt.count}) | queued {s.queued}"
    )
    extra = []
    if s.workers > 1:
        extra.append(f"{s.workers} workers")
    if s.failed:
        extra.append(f"{s.failed} failed to start")
    if s.dead_workers:
        extra.append(f"{s.dead_workers} worker(s) died")
    if s.kind == "final" and s.boot_seconds is not None:
        extra.append(f"boot storm {s.boot_seconds:.1f}s")
    if s.kind == "final":
        extra.append(f"{s.messages_in + s.messages_out} messages")
    return line + (" | " + ", ".join(extra) if extra else "")


def to_json(s: Snapshot, wire: bool = False) -> dict[str, Any]:
    """The snapshot as a JSON object; ``wire`` adds the histogram's buckets (``rtt_buckets``)."""
    data: dict[str, Any] = {
        "kind": s.kind,
        "elapsed": round(s.elapsed, 3),
        "stations": s.stations,
        "running": s.running,
        "connected": s.connected,
        "registered": s.registered,
        "charging": s.charging,
        "queued": s.queued,
        "messages_in": s.messages_in,
        "messages_out": s.messages_out,
        "messages_per_second": s.messages_per_second,
        "rtt_ms": {"samples": s.rtt.count, "p50": s.rtt_ms(0.5), "p99": s.rtt_ms(0.99)},
        "failed": s.failed,
        "boot_seconds": None if s.boot_seconds is None else round(s.boot_seconds, 3),
        "workers": s.workers,
        "dead_workers": s.dead_workers,
        "collect_ms": round(s.collect_ms, 3),
    }
    if wire:
        data["rtt_buckets"] = s.rtt.to_pairs()
    return data


_INTS = ("stations", "running", "connected", "registered", "charging", "queued", "messages_in")
_MORE_INTS = ("messages_out", "failed", "workers", "dead_workers")


def from_json(data: dict[str, Any]) -> Snapshot:
    """A snapshot sent by a worker (:func:`to_json` with ``wire=True``); ValueError when it is
    not one."""
    if not isinstance(data, dict) or data.get("kind") not in ("live", "final"):
        raise ValueError(f"not a fleet snapshot: {data!r:.200}")
    values: dict[str, Any] = {}
    for name in _INTS + _MORE_INTS:
        value = data.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"fleet snapshot: {name} must be a count, got {value!r}")
        values[name] = value
    for name in ("elapsed", "messages_per_second", "collect_ms"):
        value = data.get(name, 0.0)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"fleet snapshot: {name} must be a number, got {value!r}")
        values[name] = float(value)
    boot = data.get("boot_seconds")
    if boot is not None and (isinstance(boot, bool) or not isinstance(boot, int | float)):
        raise ValueError(f"fleet snapshot: boot_seconds must be a number, got {boot!r}")
    buckets = data.get("rtt_buckets", [])
    if not isinstance(buckets, list):
        raise ValueError("fleet snapshot: rtt_buckets must be a list")
    return Snapshot(
        kind=data["kind"],
        boot_seconds=None if boot is None else float(boot),
        rtt=Histogram.from_pairs(buckets),
        **values,
    )
