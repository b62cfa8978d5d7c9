"""Dead letters, on a test database: a message that can never be valid is set aside by the queue
sender, never retried, and the messages behind it go out at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocpp_station.clock import ManualClock
from ocpp_station.dispatch.sender import QueueSender, RetryPolicy
from ocpp_station.rpc.connection import RpcConnection
from ocpp_station.storage import StationStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StationStore]:
    opened = StationStore.open(tmp_path / "data")
    yield opened
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
