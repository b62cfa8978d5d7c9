"""The message facet of the station store: the persistent queue (E04, E11-E13)."""

from __future__ import annotations

import logging
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocpp_station.storage import MessageQueue, QueuedMessage, StationStore

T0 = 1_767_225_600.0


def tx_event(seq: int, tid: str = "tx-1") -> dict[str, Any]:
    return {
        "eventType": "Updated",
        "timestamp": "2026-01-01T00:00:00.000Z",
        "triggerReason": "MeterValuePeriodic",
        "seqNo": seq,
        "transactionInfo": {"transactionId": tid},
    }


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StationStore]:
    opened = StationStore.open(tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def queue(store: StationStore) -> MessageQueue:
    return store.messages


def test_order_ack_and_len(queue: MessageQueue) -> None:
    assert queue.head() is None and len(queue) == 0
    ids = [queue.push("TransactionEvent", tx_event(i), T0 + i) for i in range(3)]
    assert ids == sorted(ids) and len(queue) == 3
    head = queue.head()
    assert head == QueuedMessage(ids[0], "TransactionEvent", tx_event(0), 0, T0)
    queue.ack(ids[0])
    queue.ack(ids[0])  # a second ack is harmless
    assert len(queue) == 2
    head = queue.head()
    assert head is not None and head.payload["seqNo"] == 1


def test_persistence_across_reopen(tmp_path: Path) -> None:
    s = StationStore.open(tmp_path)
    first = s.messages.push("TransactionEvent", tx_event(0), T0)
    s.messages.push("MeterValues", {"evseId": 1, "meterValue": []}, T0)
    assert s.messages.record_attempt(first) == 1
    with pytest.raises(KeyError):
        s.messages.record_attempt(first + 99)
    s.state.save("evse/1", {"seq_no": 2})
    s.close()
    s = StationStore.open(tmp_path)
    assert len(s.messages) == 2
    head = s.messages.head()
    assert head is not None and (head.id, head.attempts) == (first, 1)
    assert s.state.load("evse/1") == {"seq_no": 2}
    s.messages.ack(first)
    s.messages.ack(first + 1)
    s.close()
    s = StationStore.open(tmp_path)
    assert s.messages.push("TransactionEvent", tx_event(3), T0) > first + 1  # ids never reused
    s.close()


def test_message_survives_sigkill_right_after_push(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import os, signal
        from ocpp_station.storage import StationStore
        s = StationStore.open({str(tmp_path)!r})
        event = ("TransactionEvent", {{"seqNo": 7}})
        s.messages.push_batch([event], 1.0, "evse/1", {{"seq_no": 8}})
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    s = StationStore.open(tmp_path)
    head = s.messages.head()
    assert head is not None and head.payload == {"seqNo": 7}
    assert s.state.load("evse/1") == {"seq_no": 8}
    s.close()


def push_one(queue: MessageQueue, payload: dict[str, Any], key: str, state: Any) -> int:
    return queue.push_batch([("TransactionEvent", payload)], T0, key, state)[0]


def test_push_batch_keeps_message_and_state_together(store: StationStore) -> None:
    queue = store.messages
    push_one(queue, tx_event(0), "evse/1", {"seq_no": 1})
    assert len(queue) == 1 and store.state.load("evse/1") == {"seq_no": 1}
    # a failure inside the SQLite transaction rolls the message back too
    store.connection.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON state WHEN NEW.key = 'evse/2' "
        "BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
    )
    with pytest.raises(sqlite3.IntegrityError):
        push_one(queue, tx_event(0, "tx-2"), "evse/2", {"seq_no": 1})
    assert len(queue) == 1 and store.state.load("evse/2") is None
    assert not queue.has_messages_for("tx-2")
    # bad input is refused before anything is written
    with pytest.raises(ValueError, match="not JSON-serialisable"):
        push_one(queue, tx_event(1), "evse/1", {"bad": {1, 2}})
    with pytest.raises(ValueError, match="must be a dict"):
        push_one(queue, tx_event(1), "evse/1", None)
    with pytest.raises(ValueError, match="state key"):
        push_one(queue, tx_event(1), "", {"seq_no": 9})
    with pytest.raises(ValueError, match="payload must be a dict"):
        queue.push("TransactionEvent", [], T0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="action"):
        queue.push("", {}, T0)
    assert len(queue) == 1 and store.state.load("evse/1") == {"seq_no": 1}
    ids = queue.push_batch(
        [("TransactionEvent", tx_event(1)), ("TransactionEvent", tx_event(2))],
        T0,
        "evse/1",
        {"seq_no": 3},
    )
    assert len(ids) == 2 and len(queue) == 3 and store.state.load("evse/1") == {"seq_no": 3}


def test_drop_logs_and_offline_marking(
    queue: MessageQueue, caplog: pytest.LogCaptureFixture
) -> None:
    first = queue.push("TransactionEvent", tx_event(0), T0)
    queue.push("MeterValues", {"evseId": 1}, T0)
    assert queue.mark_offline() == 1  # only TransactionEvents carry the flag (E11.FR.07)
    head = queue.head()
    assert head is not None and head.payload["offline"] is True
    queue.offline = True
    original = tx_event(1)
    queue.push("TransactionEvent", original, T0)
    assert "offline" not in original  # the caller's dict is untouched
    assert queue.has_messages_for("tx-1") and not queue.has_messages_for("tx-9")
    with caplog.at_level(logging.WARNING, logger="ocpp_station.storage"):
        queue.drop(first, "CALLERROR: GenericError")
    assert "dropped queued TransactionEvent message" in caplog.text
    assert len(queue) == 2
    rest = []
    while (m := queue.head()) is not None:
        rest.append((m.action, m.payload.get("offline")))
        queue.ack(m.id)
    assert rest == [("MeterValues", None), ("TransactionEvent", True)]


def test_damaged_row_is_dropped_not_blocking(store: StationStore) -> None:
    store.messages.push("TransactionEvent", tx_event(0), T0)
    store.connection.execute("UPDATE messages SET payload = '{broken'")
    store.messages.push("TransactionEvent", tx_event(1), T0)
    queue = MessageQueue(store.connection)  # the damage is found by a queue that reads it
    assert queue.mark_offline() == 1  # the damaged row is left to head()
    head = queue.head()
    assert head is not None and head.payload["seqNo"] == 1 and len(queue) == 1


def test_head_is_read_only_when_not_known(store: StationStore) -> None:
    """A message pushed into an empty queue is its head without a statement; any change of the
    head's row (ack, a failed attempt, offline marking) makes the next head() read it again."""
    queue = store.messages
    statements: list[str] = []
    store.connection.set_trace_callback(statements.append)
    first = queue.push("TransactionEvent", tx_event(0), T0)
    second = queue.push("TransactionEvent", tx_event(1), T0 + 1)
    head = queue.head()
    assert head == QueuedMessage(first, "TransactionEvent", tx_event(0), 0, T0)
    assert head is not None and head.payload is not queue.head().payload  # type: ignore[union-attr]
    assert not [s for s in statements if s.startswith("SELECT")]
    assert queue.record_attempt(first) == 1
    assert queue.head() == QueuedMessage(first, "TransactionEvent", tx_event(0), 1, T0)
    queue.mark_offline()
    head = queue.head()
    assert head is not None and head.payload["offline"] is True
    queue.ack(first)
    statements.clear()
    head = queue.head()
    assert head is not None and head.id == second and head.attempts == 0
    assert [s for s in statements if s.startswith("SELECT")]  # read: it was not known
    queue.ack(second)
    assert queue.head() is None


def test_offline_marking_runs_only_when_a_transaction_event_may_lack_the_flag(
    store: StationStore,
) -> None:
    queue = store.messages
    statements: list[str] = []
    store.connection.set_trace_callback(statements.append)
    queue.push("SecurityEventNotification", {"type": "StartupOfTheDevice"}, T0)
    assert queue.mark_offline() == 0 and not [s for s in statements if "UPDATE" in s]
    queue.push("TransactionEvent", tx_event(0), T0)
    assert queue.mark_offline() == 1
    assert queue.mark_offline() == 0  # marked already: no statement
    queue.offline = True
    queue.push("TransactionEvent", tx_event(1), T0)  # flagged as it is pushed
    assert queue.mark_offline() == 0
    assert len([s for s in statements if s.startswith("UPDATE")]) == 1
    queue.offline = False
    queue.push("TransactionEvent", tx_event(2), T0)
    store.connection.set_trace_callback(None)
    reopened = MessageQueue(store.connection)  # a restart finds the unflagged one
    assert reopened.mark_offline() == 1
