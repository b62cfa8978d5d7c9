"""Threads that close what the event loop hands them (a fleet's evicted store connections).

A WAL connection's close checkpoints it and syncs the file: milliseconds of I/O that must not
stall the loop.  The threads spend that time without the GIL, but each close costs the loop a
GIL hand-over, and everything a thread runs in Python around a close runs while the loop waits
for the GIL.  So the hand-over is one C-level ``SimpleQueue.put`` (no future, no work item: a
fleet's boot storm evicts nine connections in ten, some 270 a second), and a thread runs one
short loop per item.

The threads are daemon threads: a process that ends without :meth:`Closers.join` (a fleet that
was not stopped) leaves its last connections unclosed, which loses nothing (what they committed
is in their ``-wal`` files, which the next open recovers).  :meth:`join` waits until everything
handed over is closed.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Closers(Generic[T]):
    """``count`` threads calling ``close(item)`` for each item :meth:`put` hands over (started at
    the first); ``close`` must not raise."""

    def __init__(self, close: Callable[[T], None], count: int, name: str) -> None:
        if count < 1:
            raise ValueError(f"at least one closer thread, not {count}")
        self._close = close
        self._count = count
        self._name = name
        self._queue: queue.SimpleQueue[T | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()  # an item is handed to threads that will take it

    @property
    def running(self) -> int:
        """How many threads run now (0 before the first :meth:`put` and after :meth:`join`)."""
        return len(self._threads)

    def put(self, item: T) -> None:
        """Hand ``item`` to the threads."""
        with self._lock:
            if not self._threads:
                self._start()
            self._queue.put(item)

    def join(self) -> None:
        """Wait until every item handed over before this call is closed, and end the threads
        (an item handed over meanwhile goes to new ones)."""
        with self._lock:
            threads, self._threads = self._threads, []
            ending, self._queue = self._queue, queue.SimpleQueue()  # (new threads: a new queue)
            for _thread in threads:
                ending.put(None)  # one end mark per thread, after every item so far
        for thread in threads:
            thread.join()

    def _start(self) -> None:
        self._threads = [
            threading.Thread(
                target=self._run, args=(self._queue,), name=f"{self._name}-{i}", daemon=True
            )
            for i in range(self._count)
        ]
        for thread in self._threads:
            thread.start()

    def _run(self, items: queue.SimpleQueue[T | None]) -> None:
        get, close = items.get, self._close
        while (item := get()) is not None:
            close(item)
