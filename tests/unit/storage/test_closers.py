"""The threads that close a fleet's evicted store connections (``storage.closers``): everything
handed over is closed, a join waits for it, and joins and hand-overs from different threads at
the same time lose nothing and never hang."""

from __future__ import annotations

import threading
import time

from ocpp_station.storage.closers import Closers


def test_a_join_waits_for_every_item_and_ends_the_threads() -> None:
    closed: list[int] = []

    def close(item: int) -> None:
        time.sleep(0.001)  # (a close takes a while: it checkpoints and syncs)
        closed.append(item)

    closers: Closers[int] = Closers(close, 2, "test-close")
    assert closers.running == 0  # no thread before the first item
    for item in range(50):
        closers.put(item)
    assert closers.running == 2
    closers.join()
    assert sorted(closed) == list(range(50)) and closers.running == 0
    closers.put(50)  # new threads for what comes after a join
    closers.join()
    assert sorted(closed) == list(range(51))
    assert not [t for t in threading.enumerate() if t.name.startswith("test-close")]


def test_joins_and_hand_overs_at_the_same_time_lose_nothing() -> None:
    """A fleet's store may wait for the closes (a failed reopen, on the loop) while a worker
    thread waits for them too (``wait_closed``) and the loop keeps evicting."""
    closed: set[int] = set()

    def close(item: int) -> None:
        if item % 7 == 0:
            time.sleep(0.0005)  # (closes are not instant: joins come while they run)
        closed.add(item)

    closers: Closers[int] = Closers(close, 2, "test-race")
    done = threading.Event()

    def joiner() -> None:
        while not done.is_set():
            closers.join()

    joiners = [threading.Thread(target=joiner) for _ in range(2)]
    for thread in joiners:
        thread.start()
    for item in range(3000):
        closers.put(item)
        if item % 50 == 0:
            time.sleep(0.001)
    done.set()
    for thread in joiners:
        thread.join(timeout=10)
        assert not thread.is_alive()
    closers.join()
    assert closed == set(range(3000))
