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
the security block.  Version 6 keys every table by ``station`` (the station's key where the
stations of a fleet share one database, '' in a station's own file): the tables whose primary key
gains it are rebuilt with their rows keyed '', the others gain the column and an index; the
device model's ``device_model_schema`` is made here too.  Version 7 adds
``device_model_schema.base``: the shared rows a fleet station's device model starts from
(:mod:`device_model.bases`).

A new file (no table at all) is made in the current schema at once (:mod:`.tables`), not by
replaying every migration: the same tables (a test compares the two), a fifth of the time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from device_model.store import VERSION_TABLE, rekey, rekey_device_model
from device_model.tables import add_column
from ocpp_station.storage import tables as t
from ocpp_station.storage.connection import StorageError, transaction


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]
    apply: Callable[[sqlite3.Connection], None] | None = None  # after the statements


# The tables as versions 1 and 5 made them (before version 6 keyed them by station).
_ATTRIBUTE_VALUE_V1 = """
CREATE TABLE IF NOT EXISTS attribute_value (
    component TEXT NOT NULL,
    component_instance TEXT NOT NULL,
    evse INTEGER NOT NULL,
    connector INTEGER NOT NULL,
    variable TEXT NOT NULL,
    variable_instance TEXT NOT NULL,
    attribute TEXT NOT NULL,
    value TEXT,
    PRIMARY KEY (component, component_instance, evse, connector, variable, variable_instance,
                 attribute)
) WITHOUT ROWID
"""
_CHARGING_PROFILES_V1 = """
CREATE TABLE IF NOT EXISTS charging_profiles (
    id INTEGER PRIMARY KEY,
    evse_id INTEGER NOT NULL,
    purpose TEXT NOT NULL,
    stack_level INTEGER NOT NULL,
    transaction_id TEXT,
    source TEXT NOT NULL,
    profile TEXT NOT NULL
)
"""
_SECURITY_LOG_V5 = """
CREATE TABLE IF NOT EXISTS security_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp TEXT NOT NULL,
    type TEXT NOT NULL,
    tech_info TEXT,
    critical INTEGER NOT NULL
)
"""


_V1 = Migration(
    1,
    "device model, message queue, state records and charging profiles in one file",
    (
        _ATTRIBUTE_VALUE_V1,  # the device model's DDL of then (device_model.store)
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
        _CHARGING_PROFILES_V1,
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
    (_SECURITY_LOG_V5,),
)


def _key_tables(conn: sqlite3.Connection) -> None:
    rekey_device_model(conn)  # attribute_value, and device_model_schema where it is
    conn.execute(VERSION_TABLE)  # (else made by the device model at its first start)
    for table, ddl, columns in t.REKEYED:
        rekey(conn, table, ddl, columns)
    # Ids shared by the stations of a database (they only grow): a column and an index.
    for table, index in t.GAINED_A_COLUMN:
        add_column(conn, table, "station", "TEXT NOT NULL DEFAULT ''")
        conn.execute(index)


_V6 = Migration(6, "every table keyed by station", (), _key_tables)


def _add_base(conn: sqlite3.Connection) -> None:
    rekey_device_model(conn)  # (adds device_model_schema.base)


_V7 = Migration(7, "the base a station's device-model rows start from", (), _add_base)

MIGRATIONS: tuple[Migration, ...] = (_V1, _V2, _V3, _V4, _V5, _V6, _V7)
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
    _not_newer(found, name)
    if found < SCHEMA_VERSION:
        # Every pending step in ONE transaction (one synced commit, all or nothing): a new
        # station.db costs one fsync here, not one per version (a fleet creates thousands).
        with transaction(conn):
            # (read again under the write lock: another process of a fleet sharing the file
            # may have migrated it meanwhile)
            current = schema_version(conn)
            _not_newer(current, name)
            if current == 0 and _empty(conn):  # a new file: the current schema at once
                for statement in t.CURRENT_SCHEMA:
                    conn.execute(statement)
                current = SCHEMA_VERSION  # (what the migrations would have made: tested)
            for migration in MIGRATIONS[current:]:
                for statement in migration.statements:
                    conn.execute(statement)
                if migration.apply is not None:
                    migration.apply(conn)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION:d}")
    return found


def _empty(conn: sqlite3.Connection) -> bool:
    """No table at all (a 0.1.0 import has its old tables, made before its migrations)."""
    return conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone() is None


def _not_newer(version: int, name: str) -> None:
    if version > SCHEMA_VERSION:
        raise StorageError(
            f"{name}: schema version {version} is newer than this release understands "
            f"({SCHEMA_VERSION})"
        )
