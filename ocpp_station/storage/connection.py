"""The one SQLite connection of a station store, and its transactions.

Durability policy (one for the whole station): WAL journal and ``synchronous=FULL``, so a commit
returns only after the WAL was synced to disk.  Everything the station answered to the CSMS
(a SetVariables Accepted, a charging profile Accepted — K01.FR.27 —, a queued TransactionEvent)
is committed with this policy before it is answered or sent, and survives a power loss.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


class StorageError(Exception):
    """The station store cannot be opened (a newer schema, a legacy file it cannot import)."""


def connect(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open ``path`` in autocommit mode (``isolation_level=None``: every transaction is explicit),
    WAL, ``synchronous=FULL``."""
    conn = sqlite3.connect(os.fspath(path), isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any exception: all or nothing."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
