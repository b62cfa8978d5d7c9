"""The queue tells transaction-related messages from the others (E14.FR.07/08)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ocpp_station.storage import StationStore

T0 = 1_767_225_600.0
EVENT = {
    "eventType": "Started",
    "timestamp": "2026-01-01T00:00:00.000Z",
    "triggerReason": "Authorized",
    "seqNo": 0,
    "transactionInfo": {"transactionId": "tx-1"},
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StationStore]:
    opened = StationStore.open(tmp_path)
    yield opened
    opened.close()


def test_only_transaction_events_count_as_transaction_messages(store: StationStore) -> None:
    queue = store.messages
    assert not queue.has_transaction_messages()
    queue.push("SecurityEventNotification", {"type": "X", "timestamp": EVENT["timestamp"]}, T0)
    assert len(queue) == 1 and not queue.has_transaction_messages()  # E14.FR.08
    event_id = queue.push("TransactionEvent", EVENT, T0)
    assert queue.has_transaction_messages()  # E14.FR.07
    queue.ack(event_id)
    assert not queue.has_transaction_messages()
