"""The schema of ``station.db``: an ordered list of migrations and ``PRAGMA user_version``.

``user_version`` is the number of the last migration applied.  Opening a store applies the missing
ones in order, all in one transaction together with the new ``user_version`` (a crash leaves the
previous version, and the migrations run again at the next start; a new file costs one durable
commit, not one per migration).  A file with a version newer
than this release knows is refused, never rewritten.  Migrations are only ever appended: a
released one is never edited.

Version 1 is the 0.1.0 data of the three former files in one: the device model's
``attribute_value``, the queue's ``messages`` and ``state``, the smart-charging
``charging_profiles``.  Its statements use ``IF NOT EXISTS`` because an import from 0.1.0
(:mod:`ocpp_station.storage.legacy`) creates the tables it copies from their old DDL first.
Version 2 adds ``dead_letters``: queued messages that can never be valid, kept for inspection.
Version 3 adds the local authorization list (D01): ``local_auth_list`` (one row per token, keyed
by a hash of the token, with its IdTokenInfo) and ``local_auth_list_version`` (one row: the
list's version), both changed in one transaction per SendLocalList.  Version 4 adds
``variable_monitors``: the custom and preconfigured variable monitors in force (N04 remark,
N07.FR.13: they persist across a reboot), with the tripped state of threshold monitors
(N07.FR.14).  Version 5 adds ``security_log``: the security events (A04.FR.04), bounded by
the security block.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from device_model.store import ATTRIBUTE_VALUE_TABLE
from ocpp_station.storage.connection import StorageError, transaction
from ocpp_station.storage.tables import CHARGING_PROFILES_TABLE, SECURITY_LOG_TABLE


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


_V1 = Migration(
    1,
    "device model, message queue, state records and charging profiles in one file",
    (
        ATTRIBUTE_VALUE_TABLE,  # the device model's own DDL (device_model.store)
        """
        CREATE TABLE IF NOT EXISTS messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            action TEXT NOT NULL,
            payload TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            created REAL NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS state (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )
        """,
        CHARGING_PROFILES_TABLE,
    ),
)

_V2 = Migration(
    2,
    "dead letters: queued messages set aside because they can never be sent",
    (
        """
        CREATE TABLE IF NOT EXISTS dead_letters (
            id INTEGER PRIMARY KEY,
            action TEXT NOT NULL,
            payload TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            created REAL NOT NULL,
            set_aside REAL NOT NULL,
            reason TEXT NOT NULL
        )
        """,
    ),
)

_V3 = Migration(
    3,
    "local authorization list: its entries and its version",
    (
        """
        CREATE TABLE IF NOT EXISTS local_auth_list (
            token_key TEXT PRIMARY KEY,
            id_token_info TEXT NOT NULL
        ) WITHOUT ROWID
        """,
        """
        CREATE TABLE IF NOT EXISTS local_auth_list_version (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            version INTEGER NOT NULL
        )
        """,
    ),
)

_V4 = Migration(
    4,
    "variable monitors: the custom and preconfigured monitors in force",
    (
        """
        CREATE TABLE IF NOT EXISTS variable_monitors (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            component TEXT NOT NULL,
            component_instance TEXT NOT NULL,
            evse INTEGER NOT NULL,
            connector INTEGER NOT NULL,
            variable TEXT NOT NULL,
            variable_instance TEXT NOT NULL,
            type TEXT NOT NULL,
            value REAL NOT NULL,
            severity INTEGER NOT NULL,
            tx INTEGER NOT NULL,
            tripped INTEGER NOT NULL DEFAULT 0
        )
        """,
    ),
)

_V5 = Migration(
    5,
    "security log: every security event, bounded",
    (SECURITY_LOG_TABLE,),
)

MIGRATIONS: tuple[Migration, ...] = (_V1, _V2, _V3, _V4, _V5)
SCHEMA_VERSION = MIGRATIONS[-1].version


def _check(migrations: tuple[Migration, ...]) -> None:
    numbers = [m.version for m in migrations]
    if numbers != list(range(1, len(numbers) + 1)):
        raise ValueError(f"migrations must be numbered 1, 2, 3 ... in order, not {numbers}")


_check(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, name: str = "station.db") -> int:
    """Bring ``conn``'s schema to :data:`SCHEMA_VERSION`; returns the version found before.

    Raises :class:`StorageError` for a file written by a newer release."""
    found = schema_version(conn)
    if found > SCHEMA_VERSION:
        raise StorageError(
            f"{name}: schema version {found} is newer than this release understands "
            f"({SCHEMA_VERSION})"
        )
    pending = MIGRATIONS[found:]
    if pending:
        # Every pending step in ONE transaction (one synced commit, all or nothing): a new
        # station.db costs one fsync here, not one per version (a fleet creates thousands).
        with transaction(conn):
            for migration in pending:
                for statement in migration.statements:
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version={pending[-1].version:d}")
    return found
