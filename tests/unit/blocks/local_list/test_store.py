"""The list in the station store: one transaction per update, so a failure part-way leaves the
old list and version (D01.FR.10)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ocpp_station.blocks.authorization.cache import token_key
from ocpp_station.blocks.local_list.list import Outcome
from ocpp_station.blocks.local_list.store import ListStore
from ocpp_station.storage import StationStore

A = token_key({"idToken": "A", "type": "ISO14443"})
B = token_key({"idToken": "B", "type": "ISO14443"})


def test_empty_store_has_no_list(tmp_path: Path) -> None:
    store = StationStore.open(tmp_path)
    try:
        assert ListStore(store.connection).load() == (0, {})
    finally:
        store.close()


def test_updates_persist_over_a_reopen(tmp_path: Path) -> None:
    store = StationStore.open(tmp_path)
    lists = ListStore(store.connection)
    lists.apply(Outcome("Accepted", version=1, replace=True, upserts={A: {"status": "Accepted"}}))
    lists.apply(
        Outcome("Accepted", version=2, upserts={B: {"status": "Blocked"}}, removals=frozenset({A}))
    )
    store.close()
    store = StationStore.open(tmp_path)
    try:
        assert ListStore(store.connection).load() == (2, {B: {"status": "Blocked"}})
    finally:
        store.close()


def test_a_failed_update_leaves_the_old_list(tmp_path: Path) -> None:
    """An error in the middle of the update (here: a value SQLite cannot bind) rolls all of it
    back: entries and version."""
    store = StationStore.open(tmp_path)
    try:
        lists = ListStore(store.connection)
        lists.apply(
            Outcome("Accepted", version=1, replace=True, upserts={A: {"status": "Accepted"}})
        )
        broken = Outcome("Accepted", version=2, replace=True, upserts={B: {"status": float("nan")}})
        with pytest.raises((ValueError, sqlite3.Error)):
            lists.apply(broken)
        assert lists.load() == (1, {A: {"status": "Accepted"}})
        assert not store.connection.in_transaction
    finally:
        store.close()
