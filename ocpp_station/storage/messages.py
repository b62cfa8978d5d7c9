"""The message facet of the station store: the persistent outbound queue.

A message is committed to SQLite (WAL, ``synchronous=FULL``: a committed push survives a power
loss) BEFORE it is sent, and deleted only when the CSMS answered it (E04.FR.01, E11.FR.01,
E12.FR.01).  Ids only grow (``AUTOINCREMENT``), so the oldest message is the one with the smallest
id; :meth:`MessageQueue.head` reads it by primary key, or not at all when the queue knows it (the
queue is its table's only writer: a message pushed into an empty queue is the head until it
leaves).

A TransactionEvent is pushed with the engine state that produced it
(:meth:`MessageQueue.push_batch` with ``state_key``/``state``) in ONE SQLite transaction: a crash
keeps both or neither, so there is never a seqNo gap nor a message without its state.

While the station is offline (:attr:`MessageQueue.offline`), TransactionEvent messages are marked
``offline: true``: those pushed then, and every one still queued when the connection drops
(:meth:`MessageQueue.mark_offline`; E04.FR.03, E11.FR.07).
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ocpp_station.storage.connection import transaction, unsynced
from ocpp_station.storage.state import SAVE_SQL, encode_state

TRANSACTION_EVENT = "TransactionEvent"
# A row without the offline flag; a damaged payload (no JSON) is left to head(), which drops it
_UNMARKED = (
    "CASE WHEN json_valid(payload) THEN json_extract(payload, '$.offline') IS NOT 1 ELSE 0 END"
)


@dataclass(frozen=True)
class QueuedMessage:
    id: int
    action: str
    payload: dict[str, Any]
    attempts: int  # failed transmissions so far
    created: float


class MessageQueue:
    """SQLite-backed FIFO of one station's outbound CALLs (``station``: its key in the table, ''
    in its own file) on the store's connection (which it does not own).  Message ids are the
    table's, shared by every station of the database: they only grow."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        *,
        logger: logging.Logger | None = None,
        on_state: Callable[[str, str], None] | None = None,
        empty: bool = False,
        station: str = "",
    ) -> None:
        """``empty``: the table is known to hold nothing of the station (nothing is read)."""
        self._db = connection
        self._station = station
        self._on_state = on_state  # (key, text) of a state record committed with messages
        self._log = logger or logging.getLogger("ocpp_station.storage")
        if empty:
            self._count = 0
        else:
            (self._count,) = self._db.execute(
                "SELECT COUNT(*) FROM messages WHERE station = ?", (station,)
            ).fetchone()
        # Whether a queued TransactionEvent may lack the offline flag (mark_offline has work)
        self._unmarked = bool(self._count) and self._has_unmarked()
        # The head's row (id, action, payload text, attempts, created) while it is known
        # without a statement; None: read it.  Every change of the head's row forgets it.
        self._head: tuple[int, str, str, int, float] | None = None
        self.offline = False

    def push(self, action: str, payload: dict[str, Any], now: float) -> int:
        """Append a message; returns its id (ids only grow, never reused)."""
        return self.push_batch([(action, payload)], now)[0]

    def push_batch(
        self,
        messages: Sequence[tuple[str, dict[str, Any]]],
        now: float,
        state_key: str | None = None,
        state: dict[str, Any] | None = None,
        *,
        synced: bool = True,
    ) -> list[int]:
        """Append several ``(action, payload)`` messages in order and, with ``state_key``, save
        ``state`` as that state record, all in one SQLite transaction (all or nothing).

        ``synced=False`` (:func:`.connection.unsynced`): only for a message the next start
        raises again when a power cut loses it (the start's StartupOfTheDevice event).

        Bad input (an empty action, a payload or state that is not a JSON-serialisable dict)
        raises ``ValueError`` before anything is written."""
        rows = [(self._check_action(a), self._encode(a, p)) for a, p in messages]
        state_text = None if state_key is None else encode_state(state_key, state)
        ids: list[int] = []
        # One INSERT alone is atomic by itself: no BEGIN and COMMIT around it.
        alone = len(rows) == 1 and state_key is None and not self._db.in_transaction
        atomic = contextlib.nullcontext() if alone else transaction(self._db)
        with contextlib.nullcontext() if synced else unsynced(self._db), atomic:
            for action, text in rows:
                cur = self._db.execute(
                    "INSERT INTO messages (station, action, payload, created) VALUES (?, ?, ?, ?)",
                    (self._station, action, text, float(now)),
                )
                ids.append(int(cur.lastrowid or 0))
            if state_key is not None:
                self._db.execute(SAVE_SQL, (self._station, state_key, state_text))
        if state_key is not None and state_text is not None and self._on_state is not None:
            self._on_state(state_key, state_text)
        if not self.offline and any(action == TRANSACTION_EVENT for action, _ in rows):
            self._unmarked = True  # (pushed while offline, _encode flagged it)
        if not self._count and ids:  # pushed into an empty queue: the first is the head
            self._head = (ids[0], rows[0][0], rows[0][1], 0, float(now))
        self._count += len(ids)
        return ids

    def head(self) -> QueuedMessage | None:
        """The oldest message (by primary key: no scan), or None when empty (known without a
        statement: the queue counts its messages).  Its payload is a new dict at every call."""
        while self._count > 0:
            row = self._head
            if row is None:
                row = self._db.execute(
                    "SELECT id, action, payload, attempts, created FROM messages "
                    "WHERE station = ? ORDER BY id LIMIT 1",
                    (self._station,),
                ).fetchone()
                if row is None:
                    return None
                self._head = row
            try:
                payload = json.loads(row[2])
                if not isinstance(payload, dict):
                    raise ValueError("payload is not an object")
            except ValueError as exc:  # a damaged row must not block the queue forever
                self.drop(row[0], f"stored payload is unreadable: {exc}")
                continue
            return QueuedMessage(row[0], row[1], payload, row[3], row[4])
        return None

    def ack(self, message_id: int) -> None:
        """The CSMS answered: delete the message (one DELETE; a second ack is harmless).

        The DELETE is committed without a sync of its own (:func:`.connection.unsynced`): the
        queue delivers at least once, and all a power cut right after it can do is send the
        message once more after the restart (a TransactionEvent with its ``seqNo`` again, which
        tells the CSMS it is a repeat); the next synced commit syncs it.  Half the fsyncs of
        every queued message, and of a fleet station's start."""
        with unsynced(self._db):
            cur = self._db.execute(
                "DELETE FROM messages WHERE station = ? AND id = ?", (self._station, message_id)
            )
        self._count -= cur.rowcount
        self._head = None

    def record_attempt(self, message_id: int) -> int:
        """Count a failed transmission; returns the failures so far (persisted)."""
        self._head = None
        row = self._db.execute(
            "UPDATE messages SET attempts = attempts + 1 WHERE station = ? AND id = ? "
            "RETURNING attempts",
            (self._station, message_id),
        ).fetchone()
        if row is None:
            raise KeyError(f"no queued message with id {message_id}")
        return int(row[0])

    def drop(self, message_id: int, reason: str) -> None:
        """Discard a message (E13.FR.04) with a log line saying why."""
        self._head = None
        row = self._db.execute(
            "DELETE FROM messages WHERE station = ? AND id = ? RETURNING action, attempts",
            (self._station, message_id),
        ).fetchone()
        if row is not None:
            self._count -= 1
            self._log.warning(
                "dropped queued %s message %d after %d failed attempt(s): %s",
                row[0],
                message_id,
                row[1],
                reason,
            )

    def set_aside(self, message_id: int, reason: str, now: float) -> bool:
        """Move a message that can never be sent (it is no valid OCPP) out of the queue into
        ``dead_letters``, where it stays for inspection; one transaction, one log line."""
        self._head = None
        with transaction(self._db):
            row = self._db.execute(
                "DELETE FROM messages WHERE station = ? AND id = ? "
                "RETURNING action, payload, attempts, created",
                (self._station, message_id),
            ).fetchone()
            if row is None:
                return False
            self._db.execute(
                "INSERT OR REPLACE INTO dead_letters "
                "(id, station, action, payload, attempts, created, set_aside, reason) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (message_id, self._station, row[0], row[1], row[2], row[3], float(now), reason),
            )
        self._count -= 1
        self._log.error(
            "queued %s message %d set aside (never sent, kept in dead_letters): %s",
            row[0],
            message_id,
            reason,
        )
        return True

    def dead_letters(self) -> list[dict[str, Any]]:
        """The messages set aside, oldest first (for inspection and tests)."""
        rows = self._db.execute(
            "SELECT id, action, payload, attempts, created, set_aside, reason "
            "FROM dead_letters WHERE station = ? ORDER BY id",
            (self._station,),
        ).fetchall()
        keys = ("id", "action", "payload", "attempts", "created", "set_aside", "reason")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def mark_offline(self) -> int:
        """Set ``offline: true`` in every queued TransactionEvent (E11.FR.07); returns how many."""
        if not self._unmarked:
            return 0  # none to mark (a starting station's queue, mostly): no statement to run
        self._head = None
        cur = self._db.execute(
            "UPDATE messages SET payload = json_set(payload, '$.offline', json('true')) "
            f"WHERE station = ? AND action = ? AND {_UNMARKED}",
            (self._station, TRANSACTION_EVENT),
        )
        self._unmarked = False
        return cur.rowcount

    def _has_unmarked(self) -> bool:
        row = self._db.execute(
            f"SELECT 1 FROM messages WHERE station = ? AND action = ? AND {_UNMARKED} LIMIT 1",
            (self._station, TRANSACTION_EVENT),
        ).fetchone()
        return row is not None

    def has_messages_for(self, transaction_id: str) -> bool:
        """Whether TransactionEvents of ``transaction_id`` still wait (E14.FR.04/05)."""
        row = self._db.execute(
            "SELECT 1 FROM messages WHERE station = ? AND action = ? AND "
            "json_extract(payload, '$.transactionInfo.transactionId') = ? LIMIT 1",
            (self._station, TRANSACTION_EVENT, transaction_id),
        ).fetchone()
        return row is not None

    def has_transaction_messages(self) -> bool:
        """Whether any transaction-related message (a TransactionEvent) still waits
        (E14.FR.07/08: other queued messages do not count)."""
        row = self._db.execute(
            "SELECT 1 FROM messages WHERE station = ? AND action = ? LIMIT 1",
            (self._station, TRANSACTION_EVENT),
        ).fetchone()
        return row is not None

    def __len__(self) -> int:
        return self._count

    @staticmethod
    def _check_action(action: str) -> str:
        if not isinstance(action, str) or not action:
            raise ValueError(f"action must be a non-empty string, not {action!r}")
        return action

    def _encode(self, action: str, payload: dict[str, Any]) -> str:
        if not isinstance(payload, dict):
            raise ValueError(f"{action} payload must be a dict, not {type(payload).__name__}")
        if self.offline and action == TRANSACTION_EVENT and payload.get("offline") is not True:
            payload = {**payload, "offline": True}  # E04.FR.03 (the caller's dict is not changed)
        try:
            return json.dumps(payload, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{action} payload is not JSON-serialisable: {exc}") from exc
