"""Storage trouble, on a test database: a full store (SQLite ``max_page_count``) is seen, named
and recovered from; a message that can never be sent is set aside, never retried."""

from __future__ import annotations

import asyncio
import logging
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocpp_station.clock import ManualClock
from ocpp_station.dispatch.sender import QueueSender, RetryPolicy
from ocpp_station.rpc.connection import RpcConnection
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


class Rpc:
    """The real sans-I/O connection as the sender's ``call``: validation, no network."""

    def __init__(self) -> None:
        self.conn = RpcConnection(timeout=lambda: 5.0)
        self.sent: list[str] = []

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.conn.call(action, payload, 0.0)  # raises InvalidRequest for what can never go
        self.conn.cancel(self.conn.in_flight or "", 0.0)
        self.sent.append(action)
        return {}


async def test_a_message_that_can_never_be_valid_is_set_aside_not_retried(
    store: StationStore, caplog: pytest.LogCaptureFixture
) -> None:
    queue = store.messages
    bad = {"type": "TamperDetectionActivated", "timestamp": "not-a-time"}
    queue.push("SecurityEventNotification", bad, 0.0)
    queue.push("Heartbeat", {}, 0.0)
    rpc = Rpc()
    sender = QueueSender(queue, rpc.call, lambda: RetryPolicy(3, 30), ManualClock())
    with caplog.at_level(logging.INFO):
        task = asyncio.get_running_loop().create_task(sender.run())
        for _ in range(50):
            if len(queue) == 0:
                break
            await asyncio.sleep(0)
        task.cancel()
    assert rpc.sent == ["Heartbeat"]  # right away, not after 30 s of retries
    [dead] = queue.dead_letters()
    assert dead["action"] == "SecurityEventNotification" and "timestamp" in dead["reason"]
    assert "set aside" in caplog.text and "CALLERROR" not in caplog.text
