"""Storage trouble, on a test database: a full store (SQLite ``max_page_count``) is seen, named
and recovered from; the data directory is private."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocpp_station.storage import StationStore, StorageUnavailable


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StationStore]:
    opened = StationStore.open(tmp_path / "data")
    yield opened
    opened.close()


def fill_up(store: StationStore) -> None:
    """Let the store hold not one page more (as a full disk would)."""
    conn = store.connection
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count={pages}")


def test_a_full_store_is_reported_and_recovers_by_itself(
    store: StationStore, caplog: pytest.LogCaptureFixture
) -> None:
    fill_up(store)
    big = {"data": "x" * 200_000}
    with caplog.at_level(logging.WARNING, "ocpp_station.storage"):
        for _ in range(20):  # repeats are held back in the log
            with pytest.raises(StorageUnavailable):
                store.messages.push("DataTransfer", big, 0.0)
        health = store.health.describe()
        assert health["ok"] is False and "full" in health["error"]
        assert len(store.messages) == 0  # nothing half-written
        store.connection.execute("PRAGMA max_page_count=1073741823")  # space returns
        assert store.probe()
    assert store.health.describe() == {"ok": True}
    errors = [r for r in caplog.records if "cannot write" in r.getMessage()]
    assert 1 <= len(errors) <= 5
    assert "writable again" in caplog.text
    store.messages.push("DataTransfer", big, 0.0)


def test_the_data_directory_is_private(tmp_path: Path) -> None:
    opened = StationStore.open(tmp_path / "new")
    try:
        opened.messages.push("Heartbeat", {}, 0.0)
        assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
        files = sorted((tmp_path / "new").iterdir())
        assert [f.name for f in files] == ["station.db", "station.db-shm", "station.db-wal"]
        assert {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}
    finally:
        opened.close()
