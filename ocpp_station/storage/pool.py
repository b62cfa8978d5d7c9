"""A bounded pool of open SQLite connections shared by the station stores of a fleet.

Every fleet station keeps its own ``station.db`` (same file, same code, same durability as a
single station: WAL, ``synchronous=FULL``, a TransactionEvent committed with its engine state in
one transaction), but an open WAL connection costs two descriptors (the file and ``-wal``; a
pooled connection locks its file exclusively, so SQLite keeps the WAL index in memory, not in a
``-shm`` file), so 10,000 stations cannot each keep theirs open.  In a fleet a store's
``connection`` is a :class:`PooledConnection`: a handle with the ``sqlite3.Connection`` API the
store modules use (``execute``, ``executemany``, ``in_transaction``, ``isolation_level``,
``with``, cursor iteration) that opens its file on use.  A :class:`ConnectionPool` keeps at most
``size`` of those connections open and closes the least recently used one past that.  Closing
a WAL connection checkpoints it and removes ``-wal``: an idle station holds no descriptor, and
everything it committed is in ``station.db``.  Its exclusive lock goes with the close; until
then no other process reads the file (a reopen of the same file waits for the close under way:
SQLite's busy timeout).

A connection is never closed under a running transaction or statement:

* the event loop is single-threaded and every store method is synchronous (no ``await`` inside a
  transaction or a cursor iteration; every store returns rows already fetched), so while one
  store's code runs, no other store's code is half-way through anything;
* a connection inside a transaction (``in_transaction``) or checked out (:meth:`checkout`) is
  never evicted: the pool then stays above ``size`` until it is idle again.

Threads: the pool and the handles it manages are used from the event-loop thread only.  A store is
opened in a worker thread (:meth:`ocpp_station.storage.StationStore.open`, ``pooled=True``): its
handle is then *unmanaged* (it keeps the connection it was opened with and is known to no pool)
until the loop thread calls :meth:`ConnectionPool.manage`.  The connection was opened with
``check_same_thread=False``; that is safe because it is used by one thread at a time, the worker
thread until the opening function returns (:mod:`ocpp_station.storage.offload`) and the loop
thread after.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Literal

from ocpp_station.storage.closers import Closers
from ocpp_station.storage.connection import unsynced
from ocpp_station.storage.health import StorageHealth, StorageUnavailable

if TYPE_CHECKING:  # (the copier and the database are the fleet's; the pool only carries them
    # to the stations)
    from ocpp_station.storage.copier import StoreCopier
    from ocpp_station.storage.fleet_db import FleetDatabase

DEFAULT_POOL_SIZE = 128
MAX_AUTO_SIZE = 1024
DESCRIPTORS_PER_CONNECTION = 2  # station.db and -wal (exclusive locking: no -shm file)
CLOSERS = 2  # threads closing evicted connections (a close checkpoints and syncs the file)
MAX_CLOSING = 32  # evicted connections waiting for a closer thread, at most

LOG = logging.getLogger("ocpp_station.storage")


class _Held:
    """The stores that joined inside one :meth:`ConnectionPool.holding` block."""

    def __init__(self) -> None:
        self.handles: list[PooledConnection] = []
        self.open = True


_HELD: contextvars.ContextVar[_Held | None] = contextvars.ContextVar(
    "ocpp_station_pool_held", default=None
)

Opener = Callable[[], sqlite3.Connection]


def auto_size(stations: int) -> int:
    """The pool a fleet of ``stations`` gets by default: an eighth of them (so the pool costs at
    most 3/8 of a descriptor per station, and holds the 10 % of a rig's stations that charge and
    write every few seconds), at least 8 and at most 1024."""
    return max(8, min(MAX_AUTO_SIZE, stations // 8))


class PooledConnection(sqlite3.Connection):
    """A station store's connection that (re)opens its file on use; see the module docstring.

    It is an ``sqlite3.Connection`` for ``isinstance`` and typing, but never initialises the base
    class: every method the stores use is delegated to the real connection, and any other one
    fails loudly (``ProgrammingError: Base Connection.__init__ not called``)."""

    def __init__(  # the base __init__ is deliberately not called (see above)
        self,
        opener: Opener,
        connection: sqlite3.Connection | None = None,
        *,
        health: StorageHealth | None = None,
        name: str = "station.db",
    ) -> None:
        self._opener = opener
        self._conn = connection
        self._pool: ConnectionPool | None = None
        self._checkouts = 0
        self._closed = False
        self.health = health
        self.name = name
        if connection is not None and health is not None:
            connection.health = health  # type: ignore[attr-defined]

    # -- the sqlite3.Connection API the stores use ------------------------------------------------
    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        return self._use().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        return self._use().executemany(sql, parameters)

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        return self._use().executescript(sql_script)

    def relaxed(self) -> contextlib.AbstractContextManager[None]:
        """:func:`.connection.unsynced` on the connection open now (no eviction inside: it is
        used by synchronous store code only)."""
        return unsynced(self._use())

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        return self._use().cursor(*args, **kwargs)

    def commit(self) -> None:
        if self._conn is not None:  # a closed connection has nothing to commit
            self._conn.commit()

    def rollback(self) -> None:
        if self._conn is not None:  # an evicted connection was never inside a transaction
            self._conn.rollback()

    @property
    def in_transaction(self) -> bool:
        return self._conn is not None and self._conn.in_transaction

    @property
    def isolation_level(self) -> None:  # type: ignore[override]
        return None  # every connection is opened in autocommit mode (connection.connect)

    @property
    def total_changes(self) -> int:
        return self._use().total_changes

    def __enter__(self) -> PooledConnection:
        self._use()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any, /) -> Literal[False]:
        self._use().__exit__(exc_type, exc, tb)
        return False

    def close(self) -> None:
        """Close for good (the store is closed): later use raises ``ProgrammingError``."""
        self._closed = True
        pool = self._pool
        if pool is not None:
            pool.forget(self)
            pool.dispose(self._detach())
        else:
            _close(self._detach(), self.name)

    # -- pool side ------------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        """Whether the file is open now (holding descriptors)."""
        return self._conn is not None

    @property
    def busy(self) -> bool:
        """Inside a transaction or checked out: must not be closed now."""
        return self._checkouts > 0 or self.in_transaction

    @contextlib.contextmanager
    def checkout(self) -> Iterator[sqlite3.Connection]:
        """Keep the connection open (never evicted) for the duration of the ``with`` block."""
        conn = self._use()
        self._checkouts += 1
        try:
            yield conn
        finally:
            self._checkouts -= 1

    def _use(self) -> sqlite3.Connection:
        conn = self._conn
        if conn is None:
            conn = self._reopen()
        elif self._pool is not None:
            self._pool.touch(self)
        return conn

    def _reopen(self) -> sqlite3.Connection:
        if self._closed:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        if self._pool is None:
            raise sqlite3.ProgrammingError("this store connection is in no pool and not open")
        return self._pool.open(self)

    def _connect(self, *, report: bool = True) -> sqlite3.Connection:
        try:
            conn = self._opener()
        except sqlite3.Error as exc:
            unavailable = StorageUnavailable(f"cannot open {self.name}: {exc}")
            if report and self.health is not None:
                self.health.failed(unavailable)
            raise unavailable from exc
        if self.health is not None:
            conn.health = self.health  # type: ignore[attr-defined]
        self._conn = conn
        return conn

    def _detach(self) -> sqlite3.Connection | None:
        conn, self._conn = self._conn, None
        return conn


def _close(conn: sqlite3.Connection | None, name: str = "station.db") -> None:
    if conn is not None:
        try:
            conn.close()
        except sqlite3.Error as exc:  # the data was committed before; say so and go on
            LOG.warning("closing %s: %s", name, exc)


class ConnectionPool:
    """At most ``size`` open store connections (least recently used closed first).

    Closing a WAL connection checkpoints it: it writes the WAL back into ``station.db`` and syncs
    it (about 6 ms on this machine's disk), so it is done off the event loop, by up to
    :data:`CLOSERS` threads; at most :attr:`max_closing` connections wait to be closed (their
    descriptors count in :func:`ocpp_station.fleet_capacity.plan`), past that the loop closes them
    itself.  The connection is no longer reachable from the loop when it is handed over (its
    handle forgot it, and no cursor of it is alive: see the module docstring), so one thread at a
    time uses it.  ``opened``/``evicted`` count the opens and closes the pool made."""

    def __init__(self, size: int = DEFAULT_POOL_SIZE) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"store pool size must be a positive integer, got {size!r}")
        self.size = size
        self.max_closing = min(MAX_CLOSING, size)
        self.opened = 0
        self.evicted = 0
        self._lru: OrderedDict[PooledConnection, None] = OrderedDict()  # oldest first
        self._members: set[PooledConnection] = set()
        self._closers = Closers(self._close_in_thread, CLOSERS, "store-close")
        self._closing = 0  # handed to the closer threads, not closed yet
        self._lock = threading.Lock()  # guards _closing (the closer threads decrement it)
        # The fleet's helper process making new stores during its boot storm (None: none).
        self.copier: StoreCopier | None = None
        # The fleet's database: a station keeps its rows there unless it has a file of its own.
        self.database: FleetDatabase | None = None

    def __len__(self) -> int:
        """How many connections are open now."""
        return len(self._lru)

    @property
    def descriptors(self) -> int:
        """The descriptors the open connections hold (at most, in WAL mode)."""
        return len(self._lru) * DESCRIPTORS_PER_CONNECTION

    def manage(self, handle: PooledConnection) -> None:
        """Take ``handle`` in (from the loop thread): its open connection, if any, counts against
        ``size`` from now on and the least recently used idle ones are closed past it."""
        if handle._pool is self:
            return
        if handle._pool is not None:
            raise ValueError("this store connection belongs to another pool")
        handle._pool = self
        self._members.add(handle)
        held = _HELD.get()
        if held is not None and held.open and len(self._lru) < 2 * self.size:  # see holding()
            handle._checkouts += 1
            held.handles.append(handle)
        if handle._conn is not None:
            self._lru[handle] = None
            self._trim(keep=handle)

    def forget(self, handle: PooledConnection) -> None:
        self._lru.pop(handle, None)
        self._members.discard(handle)
        handle._pool = None

    def touch(self, handle: PooledConnection) -> None:
        self._lru.move_to_end(handle)

    def open(self, handle: PooledConnection) -> sqlite3.Connection:
        """(Re)open ``handle``'s file, making room first.  When that fails (the process may be
        out of descriptors), the closes under way are waited for and one more idle connection is
        closed here, and the open is tried once again."""
        self._trim(keep=None, room=1)
        try:
            conn = handle._connect(report=False)
        except StorageUnavailable:
            self.wait_closed()
            self._evict_one(keep=None, now=True)
            conn = handle._connect()
        self.opened += 1
        self._lru[handle] = None
        return conn

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        """Stores that join this pool inside the ``with`` block, in this task (a fleet
        station's start), are not evicted before the block ends: a station that is still
        starting would otherwise close and reopen its file on the loop.  Such stores keep the
        pool above ``size`` by at most ``size`` (past that, a joining store is not held)."""
        held = _Held()
        token = _HELD.set(held)
        try:
            yield
        finally:
            _HELD.reset(token)
            held.open = False  # tasks spawned inside the block (and copying it) hold nothing
            for handle in held.handles:
                handle._checkouts -= 1
            if len(self._lru) > self.size:
                self._trim(keep=None)

    def close_all(self) -> None:
        """Close every idle connection (a fleet that stops; tests)."""
        for handle in list(self._lru):
            if not handle.busy:
                self._evict(handle)

    def dispose(self, conn: sqlite3.Connection | None) -> None:
        """Close ``conn``, which nothing uses any more, in a closer thread (or here when too many
        wait already)."""
        if conn is None:
            return
        with self._lock:
            queued = self._closing < self.max_closing
            if queued:
                self._closing += 1
        if not queued:
            _close(conn)
            return
        self._closers.put(conn)

    def _close_in_thread(self, conn: sqlite3.Connection) -> None:
        try:
            _close(conn)
        finally:
            with self._lock:
                self._closing -= 1

    @property
    def closing(self) -> int:
        """Connections waiting for a closer thread."""
        return self._closing

    def wait_closed(self) -> None:
        """Block until every connection handed to the closer threads is closed (it may be called
        from a worker thread: ``await asyncio.to_thread(pool.wait_closed)``)."""
        self._closers.join()

    def _trim(self, *, keep: PooledConnection | None, room: int = 0) -> None:
        while len(self._lru) + room > self.size:
            if not self._evict_one(keep=keep):
                return  # everything is busy: stay above size until it is idle again

    def _evict_one(self, *, keep: PooledConnection | None, now: bool = False) -> bool:
        for handle in self._lru:  # least recently used first
            if handle is not keep and not handle.busy:
                self._evict(handle, now=now)
                return True
        return False

    def _evict(self, handle: PooledConnection, *, now: bool = False) -> None:
        del self._lru[handle]
        if now:  # its descriptors are needed at once
            _close(handle._detach(), handle.name)
        else:
            self.dispose(handle._detach())
        self.evicted += 1
