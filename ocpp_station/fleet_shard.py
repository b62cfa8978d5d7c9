"""Which stations of a fleet one process runs (pure): shards over hosts, workers over cores.

A fleet of ``count`` stations has the 1-based indices ``1..count`` (station ``i`` is
``<template id>-<i>``, see :func:`ocpp_station.fleet.station_id`).  ``--shard I/N`` splits them
into ``N`` contiguous slices and runs slice ``I`` — **0-based**, like the Kubernetes job
completion index (``JOB_COMPLETION_INDEX``), so shard ``0/4`` is the first quarter.  ``--workers W``
splits the slice of this host the same way again, one slice per process.  Slices differ in size by
at most one station, are contiguous and in order, and together hold every index exactly once; a
slice may be empty when there are more slices than stations.

``--shard auto/N`` takes ``I`` from the environment variable ``JOB_COMPLETION_INDEX`` (set by
Kubernetes for each pod of an Indexed Job).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "COMPLETION_INDEX_ENV",
    "Shard",
    "ShardError",
    "parse_shard",
    "shard_indices",
    "split",
]

COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX"
MAX_SHARDS = 100_000
_SHARD = re.compile(r"^\s*(auto|\d{1,6})\s*/\s*(\d{1,6})\s*$")


class ShardError(ValueError):
    """A ``--shard`` value that cannot be used (the message says why)."""


@dataclass(frozen=True)
class Shard:
    index: int  # 0-based
    total: int

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


def parse_shard(text: str, env: Mapping[str, str] | None = None) -> Shard:
    """``"I/N"`` (0 <= I < N) or ``"auto/N"`` (I from ``JOB_COMPLETION_INDEX`` in ``env``)."""
    m = _SHARD.match(text)
    if m is None:
        raise ShardError(f"expected I/N (0-based I, e.g. 0/4) or auto/N, got {text!r}")
    total = int(m.group(2))
    if not 1 <= total <= MAX_SHARDS:
        raise ShardError(f"the number of shards must be between 1 and {MAX_SHARDS}, got {total}")
    if m.group(1) == "auto":
        raw = (env or {}).get(COMPLETION_INDEX_ENV)
        if raw is None:
            raise ShardError(f"auto/{total}: {COMPLETION_INDEX_ENV} is not set in the environment")
        if not raw.strip().isdigit():
            raise ShardError(f"auto/{total}: {COMPLETION_INDEX_ENV}={raw!r} is not an index")
        index = int(raw)
    else:
        index = int(m.group(1))
    if index >= total:
        raise ShardError(f"shard index {index} is out of range for {total} shards (0..{total - 1})")
    return Shard(index, total)


def split(indices: range, parts: int) -> list[range]:
    """``indices`` (a step-1 range) cut into ``parts`` contiguous ranges, in order, sizes
    differing by at most one (the first ones are the larger)."""
    if indices.step != 1:
        raise ValueError(f"indices must be a contiguous range, got {indices!r}")
    if parts < 1:
        raise ValueError(f"parts must be >= 1, got {parts}")
    n = len(indices)
    base, extra = divmod(n, parts)
    out = []
    start = indices.start
    for k in range(parts):
        size = base + (1 if k < extra else 0)
        out.append(range(start, start + size))
        start += size
    return out


def shard_indices(count: int, shard: Shard | None) -> range:
    """The 1-based station indices shard ``shard`` of a fleet of ``count`` runs (all of them
    without a shard)."""
    whole = range(1, count + 1)
    if shard is None:
        return whole
    return split(whole, shard.total)[shard.index]
