"""How many fleet stations this process can carry, before the boot storm starts.

A fleet that asks for more stations than the open-file limit (``RLIMIT_NOFILE``) or the available
memory can carry must say so at once, with the number it can carry, and start only that many: the
stations that did start then keep serving the CSMS.  (Starting them all anyway is what wedged a
process at 2,100 stations on a 20,000-descriptor limit: once the descriptors ran out, no station
could open anything, and the started ones stopped answering too.)

The descriptor budget: each station keeps its websocket open (``fds_per_station``); shared by all
are the open connections of the store pool, of the stores being opened in worker threads and of
those waiting for a closer thread (2 each: ``station.db`` and ``-wal``), the descriptors
already open, and a spare for the
short-lived ones (a reconnect's new socket before the old one is closed, a log file, DNS).
:func:`plan` is pure; :func:`measure` reads the limits of this process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import logging
import os
import resource
from collections.abc import Callable

from ocpp_station.storage.offload import OPENERS
from ocpp_station.storage.pool import DESCRIPTORS_PER_CONNECTION, MAX_CLOSING

SPARE_FDS = 32
FDS_PER_START = 1 + DESCRIPTORS_PER_CONNECTION  # a starting station: its websocket, its store
MAX_STARTS_UNCOUNTED = 1024

LOG = logging.getLogger("ocpp_station.fleet")


@dataclasses.dataclass(frozen=True)
class Capacity:
    """What the process can carry; :attr:`message` says why when it is fewer than asked."""

    count: int  # stations asked for
    stations: int  # stations it can carry (≤ count)
    by_fds: int  # what the descriptor limit alone carries
    by_memory: int | None  # what the available memory alone carries (None: unknown)
    fd_limit: int
    shared_fds: int  # descriptors not per station (pool, openers, open already, spare)
    needed_fds: int  # the open-file limit ``count`` stations need
    mem_available_kib: int | None
    kib_per_station: int

    @property
    def enough(self) -> bool:
        return self.stations >= self.count

    @property
    def message(self) -> str:
        """One line: what limits the fleet, the number it carries, what to change."""
        if self.enough:
            return f"this process carries all {self.count} stations"
        reasons = []
        if self.by_fds < self.count:
            reasons.append(
                f"the open-file limit {self.fd_limit} (RLIMIT_NOFILE) carries {self.by_fds} "
                f"({self.shared_fds} shared descriptors plus one per station; "
                f"{self.count} stations need `ulimit -n {self.needed_fds}`)"
            )
        if self.by_memory is not None and self.by_memory < self.count:
            assert self.mem_available_kib is not None
            reasons.append(
                f"the available memory, {self.mem_available_kib // 1024} MiB, carries "
                f"{self.by_memory} (about {self.kib_per_station} KiB each)"
            )
        return (
            f"only {self.stations} of {self.count} stations can run in this process: "
            f"{'; '.join(reasons)}; starting {self.stations}, use fewer stations or more "
            f"processes for the rest"
        )


class Admission:
    """Which of a fleet's stations start: only as many as the process carries (:meth:`admit`,
    before the boot storm), and none more once the descriptors run short during it
    (:meth:`may_start`, :meth:`failed`).  ``on_limit`` says so, one line, at once; ``limit``
    keeps that line and ``not_started`` counts the stations left out."""

    def __init__(self) -> None:
        self.limit: str | None = None
        self.not_started = 0
        self.on_limit: Callable[[str], None] = lambda line: LOG.error("fleet: %s", line)
        self._exhausted = False
        self._starts = 0
        self._count_at = 1  # the start before which /proc/self/fd is counted next

    def admit(self, capacity: Capacity) -> int:
        """How many stations to start: what ``capacity`` carries."""
        if not capacity.enough:
            self._met(capacity.message, capacity.count - capacity.stations)
        return capacity.stations

    def may_start(self, running: int) -> bool:
        """Before each start (``running`` started so far): False (and counted as not started)
        once the descriptors ran short."""
        self._starts += 1
        if not self._exhausted and self._starts >= self._count_at:
            left = fds_left()
            self._exhaust(descriptors_short(left), running)
            self._count_at = self._starts + starts_until_next_count(left)
        if self._exhausted:
            self.not_started += 1
        return not self._exhausted

    def failed(self, station: str, exc: BaseException, running: int) -> None:
        """A station did not start: for want of descriptors or memory, no more start."""
        if out_of_resources(exc):
            self._exhaust(f"out of descriptors or memory ({station}: {exc})", running)

    def _exhaust(self, why: str | None, running: int) -> None:
        if why is not None and not self._exhausted:
            self._exhausted = True  # the started stations need what is left
            self._met(f"{why} after {running} stations; no more start", 0)

    def _met(self, message: str, left_out: int) -> None:
        self.limit = message
        self.not_started += left_out
        self.on_limit(message)


def plan(
    count: int,
    *,
    fd_limit: int,
    fds_open: int,
    fds_per_station: int,
    pool_size: int,
    opener_threads: int,
    mem_available_kib: int | None,
    kib_per_station: int,
    starting: int = 0,
) -> Capacity:
    """The capacity for ``count`` stations under these limits (pure); ``starting``: how many
    stations start at once (each keeps its store open past the pool's size until it booted)."""
    per_conn = DESCRIPTORS_PER_CONNECTION
    connections = (  # open in the pool, being opened in a thread, waiting to be closed, starting
        min(pool_size, count)
        + min(opener_threads, count)
        + min(MAX_CLOSING, pool_size, count)
        + min(starting, count)
    )
    shared = fds_open + per_conn * connections + SPARE_FDS
    by_fds = max(0, (fd_limit - shared) // max(1, fds_per_station))
    by_memory = None
    if mem_available_kib is not None and kib_per_station > 0:
        by_memory = max(0, mem_available_kib // kib_per_station)
    stations = min(count, by_fds, count if by_memory is None else by_memory)
    return Capacity(
        count=count,
        stations=stations,
        by_fds=by_fds,
        by_memory=by_memory,
        fd_limit=fd_limit,
        shared_fds=shared,
        needed_fds=shared + count * fds_per_station,
        mem_available_kib=mem_available_kib,
        kib_per_station=kib_per_station,
    )


def measure(
    count: int, pool_size: int, fds_per_station: int, kib_per_station: int, starting: int = 0
) -> Capacity:
    """:func:`plan` with this process's open-file limit, open descriptors and available memory."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    fd_limit = 1 << 30 if soft == resource.RLIM_INFINITY else int(soft)
    return plan(
        count,
        fd_limit=fd_limit,
        fds_open=open_fds(),
        fds_per_station=fds_per_station,
        pool_size=pool_size,
        opener_threads=default_threads(),
        mem_available_kib=mem_available_kib(),
        kib_per_station=kib_per_station,
        starting=starting,
    )


def raise_fd_limit(needed: int) -> int:
    """Raise RLIMIT_NOFILE so ``needed`` descriptors fit (the hard limit too when privileged);
    returns the soft limit now in force."""
    inf = resource.RLIM_INFINITY
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == inf or soft >= needed:
        return int(soft)
    try:
        if hard == inf or hard >= needed:
            resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
        else:  # needs privilege (CAP_SYS_RESOURCE) to raise the hard limit
            resource.setrlimit(resource.RLIMIT_NOFILE, (needed, needed))
    except (ValueError, OSError):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return int(resource.getrlimit(resource.RLIMIT_NOFILE)[0])


def descriptors_short(left: int | None = None) -> str | None:
    """Why no more station should start: fewer than :data:`SPARE_FDS` descriptors are ``left``
    (default: counted now; something else in the process may have taken them), else None.  The
    started stations need that spare: a schema file, a log record, a reopened store."""
    left = fds_left() if left is None else left
    return f"only {left} descriptors left" if left < SPARE_FDS else None


def starts_until_next_count(left: int) -> int:
    """How many stations may start before the descriptors are counted again, ``left`` of them
    free now (pure): the starts cannot use up the spare meanwhile (each takes at most
    :data:`FDS_PER_START`).  Counting ``/proc/self/fd`` costs the loop about 7 ms at 12,000
    descriptors: counted before every eighth start, as before, it cost a 10,000-station boot
    storm nearly 1 ms per station; now it is counted a few times per thousand starts until
    the limit comes near, and before every start right at it.  A start that fails for want
    of descriptors ends the starts anyway (:meth:`Admission.failed`)."""
    return max(1, min(MAX_STARTS_UNCOUNTED, (left - SPARE_FDS) // FDS_PER_START))


def fds_left() -> int:
    """Descriptors this process may still open (a large number where it cannot tell)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    used = open_fds()
    if soft == resource.RLIM_INFINITY or used == 0:
        return 1 << 30
    return int(soft) - used


def default_threads() -> int:
    """The worker threads that open stations' stores (:mod:`ocpp_station.storage.offload`)."""
    return OPENERS


def open_fds() -> int:
    """Descriptors open in this process now (0 where ``/proc/self/fd`` is missing)."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 0


def mem_available_kib() -> int | None:
    """``MemAvailable`` of ``/proc/meminfo`` in KiB; None where it is missing."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def out_of_resources(exc: BaseException) -> bool:
    """Whether a station failed to start because the process ran out of descriptors or memory
    (then no further station should be started: the started ones need what is left).  SQLite
    says only "unable to open database file": the descriptors left are counted then."""
    return fds_left() < SPARE_FDS // 4 or says_out_of_resources(exc)


def says_out_of_resources(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the process ran out of descriptors or memory
    (pure: nothing counted)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, MemoryError):
            return True
        if isinstance(seen, OSError) and seen.errno in (errno.EMFILE, errno.ENFILE):
            return True
        if "too many open files" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False
