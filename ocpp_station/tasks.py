"""The station's background tasks, supervised: none dies in silence.

:meth:`TaskGroup.spawn` runs a coroutine as a task the station owns (cancelled at stop).  A task
that fails is logged with its traceback.  A long-running one, spawned with ``restart`` (a factory
of a fresh coroutine), is started again after a back-off on the injected clock (1 s, doubling up
to 60 s; a run that lasted longer than that starts the back-off over), so a loop that enforces a
limit, sends the queue or reads the HAL is never silently gone.  A normal return or a cancellation
ends a task for good.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from ocpp_station.clock import Clock, Wake

Factory = Callable[[], Awaitable[Any]]

RESTART_FIRST = 1.0  # seconds before the first restart
RESTART_MAX = 60.0  # the longest wait between restarts


class Spawn(Protocol):
    """What a block calls to start a background task (``Context.spawn``)."""

    def __call__(
        self, coro: Awaitable[Any], name: str, *, restart: Factory | None = None
    ) -> asyncio.Task[Any]: ...


def restart_delay(failures: int) -> float:
    """Seconds to wait before restart number ``failures`` (1, 2, 4 ... at most RESTART_MAX)."""
    return float(min(RESTART_MAX, RESTART_FIRST * 2 ** max(0, failures - 1)))


class TaskGroup:
    def __init__(self, prefix: str, log: logging.Logger, clock: Clock) -> None:
        self._prefix = prefix
        self._log = log
        self._clock = clock
        self.tasks: set[asyncio.Task[Any]] = set()
        self.restarts: dict[str, int] = {}  # task name -> restarts so far (for ``status``)

    def spawn(
        self, coro: Awaitable[Any], name: str, *, restart: Factory | None = None
    ) -> asyncio.Task[Any]:
        """Run ``coro`` as a task of the station; with ``restart``, supervised (see above)."""
        task = asyncio.get_running_loop().create_task(
            self._run(coro, name, restart), name=f"{self._prefix}:{name}"
        )
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        if inspect.iscoroutine(coro):
            # A task cancelled before it ran never awaited ``coro``: close it (no-op otherwise).
            task.add_done_callback(lambda _: coro.close())
        return task

    async def _run(self, coro: Awaitable[Any], name: str, restart: Factory | None) -> Any:
        failures = 0
        while True:
            began = self._clock.time()
            try:
                return await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                if restart is None:
                    self._log.exception("station task %s failed", name)
                    return None
                if self._clock.time() - began > RESTART_MAX:
                    failures = 0  # it ran well for a while: start the back-off over
                failures += 1
                delay = restart_delay(failures)
                self._log.exception("station task %s failed; restarting in %g s", name, delay)
            await self._clock.sleep(delay)
            self.restarts[name] = self.restarts.get(name, 0) + 1
            self._log.warning("station task %s restarted (restart %d)", name, failures)
            coro = restart()

    async def cancel_all(self) -> None:
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass

    def cancel_now(self) -> None:
        for task in list(self.tasks):
            task.cancel()


class OnDemand:
    """A supervised background loop started at its first :meth:`wake`, not before: of the dozen
    loops a station runs, most have nothing to do unless something happens (a reservation, a
    display message, a monitor, a storage failure), and in a fleet's boot storm every task
    costs its creation and its first step.  :meth:`wake` starts the loop (again, if it ended),
    or sets its ``wake`` when it runs; :meth:`stop` cancels it for good."""

    def __init__(self, spawn: Spawn, loop: Factory, name: str, wake: Wake | None = None) -> None:
        self._spawn = spawn
        self._loop = loop
        self._name = name
        self._wake = wake
        self._task: asyncio.Task[Any] | None = None
        self._stopped = False

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.set()
        if not self._stopped and not self.running:
            self._task = self._spawn(self._loop(), self._name, restart=self._loop)

    def stop(self) -> None:
        self._stopped = True
        if self._task is not None:
            self._task.cancel()
