"""The pure authorization cache: expiry (C10.FR.10/13), the byte bound and eviction by policy
(C10.FR.07), hashed keys (C10.FR.12) and the persisted record (C10.FR.02)."""

from __future__ import annotations

import json

import pytest

from ocpp_station.blocks.authorization.cache import (
    POLICIES,
    AuthCache,
    CacheLimits,
    token_key,
)
from ocpp_station.clock import iso

T0 = 1_767_225_600.0
ACCEPTED = {"status": "Accepted"}


def key(name: str) -> str:
    return token_key({"idToken": name, "type": "ISO14443"})


def one_entry_size() -> int:
    cache = AuthCache()
    cache.store(key("A"), ACCEPTED, T0, CacheLimits(lifetime=100, max_bytes=10_000))
    return cache.used_bytes


def roomy(policy: str = "LRU", entries: int = 3) -> CacheLimits:
    """Room for ``entries`` entries like the ones these tests store, not one more."""
    return CacheLimits(lifetime=1000, max_bytes=entries * one_entry_size() + 5, policy=policy)


def test_key_is_a_hash_equal_for_equal_tokens() -> None:
    """C10.FR.12: the token is not stored in the clear; C01.FR.25: idToken and type decide
    equality (the idToken ignoring case)."""
    k = token_key({"idToken": "04A1B2", "type": "ISO14443"})
    assert "04A1B2" not in k and len(k) == 64
    assert k == token_key({"idToken": "04a1b2", "type": "ISO14443", "additionalInfo": []})
    assert k != token_key({"idToken": "04A1B2", "type": "ISO15693"})


def test_lookup_and_update() -> None:
    cache = AuthCache()
    limits = CacheLimits(lifetime=100, max_bytes=10_000)
    assert cache.lookup(key("A"), T0, limits) is None
    assert cache.store(key("A"), ACCEPTED, T0, limits)
    assert cache.lookup(key("A"), T0 + 1, limits) == ACCEPTED
    cache.store(key("A"), {"status": "Blocked"}, T0 + 2, limits)  # C10.FR.04/05
    assert cache.lookup(key("A"), T0 + 3, limits) == {"status": "Blocked"}
    assert len(cache) == 1


def test_lifetime_counts_from_the_last_update() -> None:
    """C10.FR.10 (2025-01 errata): LifeTime seconds after the IdTokenInfo was last updated;
    a lookup does not extend it, an update does."""
    cache = AuthCache()
    limits = CacheLimits(lifetime=100, max_bytes=10_000)
    cache.store(key("A"), ACCEPTED, T0, limits)
    assert cache.lookup(key("A"), T0 + 90, limits) == ACCEPTED
    assert cache.lookup(key("A"), T0 + 101, limits) is None  # removed
    assert key("A") not in cache
    cache.store(key("B"), ACCEPTED, T0, limits)
    cache.store(key("B"), ACCEPTED, T0 + 90, limits)
    assert cache.lookup(key("B"), T0 + 150, limits) == ACCEPTED
    # a shorter LifeTime applies to the entries already there
    assert cache.lookup(key("B"), T0 + 150, CacheLimits(lifetime=10, max_bytes=10_000)) is None


def test_cache_expiry_date_time_overrides_lifetime() -> None:
    """C10.FR.13: cacheExpiryDateTime decides; one in the past keeps the token out (C10.FR.10
    note: prepaid accounts)."""
    cache = AuthCache()
    limits = CacheLimits(lifetime=10, max_bytes=10_000)
    info = {"status": "Accepted", "cacheExpiryDateTime": iso(T0 + 500)}
    assert cache.store(key("A"), info, T0, limits)
    assert cache.lookup(key("A"), T0 + 400, limits) == info  # beyond LifeTime, before expiry
    assert cache.lookup(key("A"), T0 + 501, limits) is None
    cache.store(key("B"), ACCEPTED, T0, limits)
    assert not cache.store(
        key("B"), {"status": "Accepted", "cacheExpiryDateTime": iso(T0)}, T0, limits
    )
    assert key("B") not in cache  # the old entry went too


@pytest.mark.parametrize("policy", POLICIES)
def test_bounded_in_bytes(policy: str) -> None:
    """C10.FR.07: a full cache still takes new entries, by deleting older ones; never more bytes
    than the bound."""
    cache = AuthCache()
    limits = roomy(policy)
    for n in range(20):
        assert cache.store(key(f"T{n}"), ACCEPTED, T0 + n, limits)
        assert cache.used_bytes <= limits.max_bytes
    assert len(cache) == 3
    assert key("T19") in cache  # the newest is always kept


def test_lru_evicts_the_least_recently_used() -> None:
    cache = AuthCache()
    limits = roomy("LRU")
    for name in "ABC":
        cache.store(key(name), ACCEPTED, T0, limits)
    cache.lookup(key("A"), T0, limits)  # A used again: B is now the least recent
    cache.store(key("D"), ACCEPTED, T0, limits)
    assert [n for n in "ABCD" if key(n) in cache] == ["A", "C", "D"]


def test_lfu_evicts_the_least_frequently_used() -> None:
    cache = AuthCache()
    limits = roomy("LFU")
    for name in "ABC":
        cache.store(key(name), ACCEPTED, T0, limits)
    for _ in range(3):
        cache.lookup(key("A"), T0, limits)
    cache.lookup(key("B"), T0, limits)
    cache.lookup(key("C"), T0, limits)
    cache.lookup(key("C"), T0, limits)
    cache.store(key("D"), ACCEPTED, T0, limits)  # B was used least
    assert [n for n in "ABCD" if key(n) in cache] == ["A", "C", "D"]


def test_fifo_evicts_the_first_stored() -> None:
    cache = AuthCache()
    limits = roomy("FIFO")
    for name in "ABC":
        cache.store(key(name), ACCEPTED, T0, limits)
    cache.lookup(key("A"), T0, limits)  # use does not matter
    cache.store(key("A"), ACCEPTED, T0 + 1, limits)  # nor does an update: A stays first in
    cache.store(key("D"), ACCEPTED, T0 + 2, limits)
    assert [n for n in "ABCD" if key(n) in cache] == ["B", "C", "D"]


@pytest.mark.parametrize("policy", POLICIES)
def test_entries_not_accepted_go_first(policy: str) -> None:
    """C10.FR.07 note: remove entries with a status other than Accepted first."""
    cache = AuthCache()
    limits = roomy(policy)
    cache.store(key("A"), ACCEPTED, T0, limits)
    cache.store(key("B"), ACCEPTED, T0, limits)
    cache.store(key("X"), {"status": "Invalid"}, T0, limits)
    for _ in range(5):
        cache.lookup(key("X"), T0, limits)  # often and recently used, stored last
    cache.store(key("D"), ACCEPTED, T0, limits)
    assert key("X") not in cache
    assert all(key(n) in cache for n in "ABD")


def test_expired_entries_go_before_valid_ones() -> None:
    cache = AuthCache()
    limits = CacheLimits(lifetime=10, max_bytes=roomy().max_bytes)
    cache.store(key("OLD"), ACCEPTED, T0, limits)
    cache.store(key("A"), ACCEPTED, T0 + 20, limits)
    cache.store(key("B"), ACCEPTED, T0 + 20, limits)
    cache.store(key("C"), ACCEPTED, T0 + 20, limits)
    assert key("OLD") not in cache and all(key(n) in cache for n in "ABC")


def test_an_entry_larger_than_the_cache_is_not_kept() -> None:
    cache = AuthCache()
    limits = CacheLimits(lifetime=10, max_bytes=50)
    assert not cache.store(key("A"), ACCEPTED, T0, limits)
    assert len(cache) == 0 and cache.used_bytes == 0


def test_shrink_to_a_lower_bound() -> None:
    cache = AuthCache()
    limits = roomy("LRU", entries=5)
    for name in "ABCDE":
        cache.store(key(name), ACCEPTED, T0, limits)
    smaller = roomy("LRU", entries=2)
    assert cache.shrink(T0, smaller)
    assert cache.used_bytes <= smaller.max_bytes
    assert [n for n in "ABCDE" if key(n) in cache] == ["D", "E"]
    assert not cache.shrink(T0, smaller)


def test_record_round_trip_is_json() -> None:
    """C10.FR.02: the cache survives a restart (the station stores this record)."""
    cache = AuthCache()
    grouped = {"status": "Accepted", "groupIdToken": {"idToken": "G", "type": "Central"}}
    limits = CacheLimits(lifetime=1000, max_bytes=10_000)
    for name in "ABC":
        cache.store(key(name), grouped, T0, limits)
    cache.lookup(key("A"), T0, limits)
    again = AuthCache(json.loads(json.dumps(cache.to_record())))
    assert again.used_bytes == cache.used_bytes
    assert again.lookup(key("B"), T0, limits) == grouped
    full = CacheLimits(lifetime=1000, max_bytes=again.used_bytes + 5)
    again.store(key("D"), ACCEPTED, T0, full)  # C is now the least recently used
    assert [n for n in "ABCD" if key(n) in again] == ["A", "B", "D"]


def test_a_record_of_release_0_1_0_is_kept_with_its_expiry() -> None:
    old_format = {"ISO14443:A": {"info": ACCEPTED, "expires": T0 + 100}, "garbage": 1}
    cache = AuthCache(old_format)
    assert len(cache) == 1
    limits = CacheLimits(lifetime=10.0, max_bytes=10_000)
    key = token_key({"type": "ISO14443", "idToken": "a"})  # case-insensitive (C01.FR.25)
    assert cache.lookup(key, T0 + 50, limits) == ACCEPTED
    assert cache.lookup(key, T0 + 101, limits) is None  # the old absolute expiry still holds


def test_a_damaged_record_starts_empty() -> None:
    assert len(AuthCache({"version": 2, "entries": {"k": "not an entry"}})) == 0
