"""The targets of issue 19 for one fleet size (:mod:`bench.fleet_scale`), checked one by one."""

from __future__ import annotations

import math
from typing import Any

# The targets: (key, label, limit, "min" | "max"); see :func:`targets`.
TARGETS = (
    ("storm_rate", "boot storm >= 300 stations/s", 300.0, "min"),
    ("storm_lag_p99_ms", "loop lag p99 during the storm <= 200 ms", 200.0, "max"),
    ("kb_per_station", "memory <= 200 kB per station", 200.0, "max"),
    ("fds_per_station", "descriptors <= 2 per station", 2.0, "max"),
    ("heartbeat_p99_ms", "heartbeat p99 < 1 s", 1000.0, "below"),
    ("meter_p99_ms", "meter values p99 < 1 s", 1000.0, "below"),
)


def targets(r: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target of :data:`TARGETS`: the measured value, the limit and whether it is met."""
    values = {
        "storm_rate": r["storm_rate"],
        "storm_lag_p99_ms": r["storm_lag"]["p99"],
        "kb_per_station": r["rss_per_station_kib"] * 1.024,
        "fds_per_station": r["fds_per_station"],
        "heartbeat_p99_ms": r["heartbeat"]["p99"] if r["heartbeat"]["n"] else math.inf,
        "meter_p99_ms": r["meter"]["p99"] if r["meter"]["n"] else math.inf,
    }
    out = {}
    for key, label, limit, kind in TARGETS:
        v = values[key]
        met = v >= limit if kind == "min" else (v <= limit if kind == "max" else v < limit)
        out[key] = {"label": label, "value": v, "limit": limit, "met": bool(met)}
    return out
