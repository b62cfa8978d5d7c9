"""The authorization cache (OCPP 2.0.1 part 2, C10-C12): a pure, bounded store of IdTokenInfo.

Entries are keyed by a hash of the token (C10.FR.12: personal data not kept in the clear; the
idToken is case-insensitive, so it is folded first).  An entry expires ``AuthCacheCtrlr.LifeTime``
seconds after its IdTokenInfo was last updated (C10.FR.10 as amended by the 2025-01 errata), or at
the CSMS's ``cacheExpiryDateTime`` when it gave one (C10.FR.13); a ``cacheExpiryDateTime`` already
past removes the entry instead of storing it.

The cache is bounded in bytes (``AuthCacheCtrlr.Storage``: its ``maxLimit``, lowered by the
``MaxSet`` attribute when set).  When a new entry does not fit, older entries go (C10.FR.07): any
entry whose status is not Accepted first, then by ``AuthCacheCtrlr.Policy`` - LRU (least recently
used), LFU (least frequently used, ties by recency) or FIFO (first stored).  The size of an entry
is the length of its JSON record (token hash, IdTokenInfo, times) plus a fixed allowance for
the counters.

Pure: no I/O, time passed in; :meth:`AuthCache.to_record` / ``AuthCache(record)`` persist it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ocpp_station.clock import parse_iso

POLICIES = ("LRU", "LFU", "FIFO")  # what this cache implements of LRU, LFU, FIFO, CUSTOM
RECORD_VERSION = 2


@dataclass(frozen=True)
class CacheLimits:
    """The AuthCacheCtrlr settings the cache obeys, read by the caller."""

    lifetime: float  # AuthCacheCtrlr.LifeTime, seconds
    max_bytes: int  # AuthCacheCtrlr.Storage maxLimit (or MaxSet)
    policy: str = "LRU"  # AuthCacheCtrlr.Policy


def token_key(id_token: Mapping[str, Any]) -> str:
    """The cache key of an IdTokenType: equal tokens (same idToken ignoring case, same type,
    C01.FR.25) give the same key; the token itself cannot be read back from it."""
    text = f"{id_token.get('type', '')}\n{str(id_token.get('idToken', '')).casefold()}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def expiry_of(info: Mapping[str, Any]) -> float | None:
    """The ``cacheExpiryDateTime`` of an IdTokenInfo as epoch seconds (None: absent or
    unreadable, the LifeTime applies)."""
    value = info.get("cacheExpiryDateTime")
    if not isinstance(value, str):
        return None
    try:
        return parse_iso(value)
    except ValueError:
        return None


COUNTERS_BYTES = 64  # room for the use/insertion counters, counted once so a lookup never grows


def _size(key: str, entry: Mapping[str, Any]) -> int:
    fixed = [key, entry["info"], entry["updated"], entry.get("until")]
    text = json.dumps(fixed, separators=(",", ":"), sort_keys=True)
    return len(text.encode("utf-8")) + COUNTERS_BYTES


def upgrade_record(old: Mapping[str, Any]) -> dict[str, Any]:
    """The cache record of release 0.1.0 (``{"<type>:<idToken>": {"info", "expires"}}``) in
    this version's form: each entry keeps its IdTokenInfo and its absolute expiry."""
    entries: dict[str, dict[str, Any]] = {}
    for n, (name, entry) in enumerate(sorted(old.items()), start=1):
        kind, sep, token = str(name).partition(":")
        if not sep or not isinstance(entry, Mapping) or not isinstance(entry.get("info"), dict):
            continue
        expires = entry.get("expires")
        until = float(expires) if isinstance(expires, int | float) else None
        key = token_key({"type": kind, "idToken": token})
        entries[key] = {
            "info": dict(entry["info"]),
            "updated": 0.0 if until is None else until,
            "until": until,
            "added": n,
            "used": n,
            "uses": 1,
        }
    return {"version": RECORD_VERSION, "counter": len(entries), "entries": entries}


class AuthCache:
    """See the module docstring.  ``record`` is what :meth:`to_record` returned."""

    def __init__(self, record: Mapping[str, Any] | None = None) -> None:
        self._entries: dict[str, dict[str, Any]] = {}
        self._sizes: dict[str, int] = {}
        self._counter = 0  # orders uses and insertions (timestamps may be equal)
        if isinstance(record, Mapping) and "version" not in record:
            record = upgrade_record(record)  # written by release 0.1.0
        if isinstance(record, Mapping) and record.get("version") == RECORD_VERSION:
            self._counter = int(record.get("counter", 0))
            for key, entry in dict(record.get("entries") or {}).items():
                if isinstance(entry, dict) and isinstance(entry.get("info"), dict):
                    self._entries[key] = entry
                    self._sizes[key] = _size(key, entry)

    # -- reading -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    @property
    def used_bytes(self) -> int:
        return sum(self._sizes.values())

    def peek(self, key: str) -> dict[str, Any] | None:
        """The IdTokenInfo stored for ``key`` as it is (no use counted, expiry not applied):
        what the station holds about a customer (N09)."""
        entry = self._entries.get(key)
        return None if entry is None else dict(entry["info"])

    def lookup(self, key: str, now: float, limits: CacheLimits) -> dict[str, Any] | None:
        """The cached IdTokenInfo of ``key`` (None when absent or expired, which removes it);
        a hit counts as a use (LRU/LFU)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._expired(entry, now, limits):
            self._remove(key)
            return None
        self._counter += 1
        entry["used"] = self._counter
        entry["uses"] = int(entry.get("uses", 0)) + 1
        return dict(entry["info"])

    # -- writing -------------------------------------------------------------------------------
    def store(self, key: str, info: Mapping[str, Any], now: float, limits: CacheLimits) -> bool:
        """Store (or update) the IdTokenInfo of ``key``; False when it is not kept (expiry
        already past, or larger than the whole cache)."""
        until = expiry_of(info)
        old = self._entries.get(key)
        if old is not None:
            self._remove(key)
        if until is not None and until <= now:
            return False  # C10.FR.10 note: an expiry in the past keeps the token out
        self._counter += 1
        entry: dict[str, Any] = {
            "info": dict(info),
            "updated": now,
            "until": until,
            "added": old["added"] if old else self._counter,
            "used": self._counter,
            "uses": max(int(old.get("uses", 0)) if old else 0, 1),
        }
        size = _size(key, entry)
        if size > limits.max_bytes:
            return False
        self._purge_expired(now, limits)
        self._fit(limits.max_bytes - size, limits.policy)
        self._entries[key] = entry
        self._sizes[key] = size
        return True

    def remove(self, key: str) -> bool:
        if key not in self._entries:
            return False
        self._remove(key)
        return True

    def clear(self) -> None:
        self._entries.clear()
        self._sizes.clear()

    def shrink(self, now: float, limits: CacheLimits) -> bool:
        """Drop expired entries and evict until the cache fits ``limits.max_bytes`` (after the
        limit was lowered); True when anything went."""
        before = len(self._entries)
        self._purge_expired(now, limits)
        self._fit(limits.max_bytes, limits.policy)
        return len(self._entries) != before

    def to_record(self) -> dict[str, Any]:
        return {"version": RECORD_VERSION, "counter": self._counter, "entries": self._entries}

    # -- internals -----------------------------------------------------------------------------
    @staticmethod
    def _expired(entry: Mapping[str, Any], now: float, limits: CacheLimits) -> bool:
        until = entry.get("until")
        if until is not None:
            return now > float(until)  # C10.FR.13
        return now - float(entry["updated"]) > limits.lifetime  # C10.FR.10

    def _purge_expired(self, now: float, limits: CacheLimits) -> None:
        for key in [k for k, e in self._entries.items() if self._expired(e, now, limits)]:
            self._remove(key)

    def _fit(self, budget: int, policy: str) -> None:
        while self._entries and self.used_bytes > budget:
            self._remove(self._victim(policy))

    def _victim(self, policy: str) -> str:
        """C10.FR.07: entries not Accepted go first, then the policy's choice."""
        refused = [k for k, e in self._entries.items() if e["info"].get("status") != "Accepted"]
        candidates = refused or list(self._entries)
        entries = self._entries
        if policy == "LFU":
            return min(candidates, key=lambda k: (entries[k]["uses"], entries[k]["used"]))
        if policy == "FIFO":
            return min(candidates, key=lambda k: entries[k]["added"])
        return min(candidates, key=lambda k: entries[k]["used"])  # LRU, and the fallback

    def _remove(self, key: str) -> None:
        del self._entries[key]
        del self._sizes[key]
