"""Opening a store off the event loop: a boot storm of a thousand stations must not stall it.

:func:`open_in_thread` runs an opening function (``StationStore.open``, its migrations, the device
model's seed) in one of :data:`OPENERS` worker threads.  What it opens is handed to the loop
thread when the function returns and is used from that thread only; the SQLite connection was
opened with ``check_same_thread=False`` for that hand-over, safe because one thread at a time
uses it.  A caller cancelled while the thread runs (a fleet stopped during its boot storm) cannot
interrupt the thread: what it opens is closed when it is done, so nothing is left open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

LOG = logging.getLogger("ocpp_station.storage")


# Four threads: a new store's file work (mkdir, the image's fsync, SQLite's files) mostly waits
# on the kernel, and with four the boot storm no longer queues behind its opens (two: 5-10 %
# fewer stations per second on 2 cores).  Each holds 2 descriptors while it opens.
OPENERS = 4
_executor: ThreadPoolExecutor | None = None


async def open_in_thread(opener: Callable[[], T], close: Callable[[T], None]) -> T:
    """``opener()`` in a worker thread; ``close(result)`` if the caller is cancelled meanwhile."""
    global _executor  # one executor for the process, made on first use
    if _executor is None:
        _executor = ThreadPoolExecutor(OPENERS, thread_name_prefix="store-open")
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(_executor, opener)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        future.add_done_callback(lambda done: _close_late(done, close))
        raise


def _close_late(done: asyncio.Future[T], close: Callable[[T], None]) -> None:
    if done.cancelled() or done.exception() is not None:
        return
    with contextlib.suppress(Exception):
        close(done.result())
    LOG.debug("closed a store opened for a start that was cancelled")
