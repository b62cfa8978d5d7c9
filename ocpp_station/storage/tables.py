"""The current schema of the station store (version 6): the tables a new file is made with, the
DDL of the tables migration 6 rebuilt, and those a block's own store also uses.

Every table is keyed by ``station``: the station's key where several stations share one database,
'' in a station's own ``station.db``.  A new file gets :data:`CURRENT_SCHEMA` in one go; a file of
an earlier version gets the same tables from the migrations (``tests/unit/storage/
test_keyed_tables.py`` compares the two)."""

from __future__ import annotations

from device_model.store import ATTRIBUTE_VALUE_TABLE, VERSION_TABLE

# The smart-charging profile store (``blocks/smart_charging/store.py``): created by migration 6
# (keyed; migration 1 made it unkeyed), and by the profile store itself when it runs on a file
# of its own.  ``id`` is the profile's id from the CSMS: unique per station.
CHARGING_PROFILES_TABLE = """
CREATE TABLE IF NOT EXISTS charging_profiles (
    station TEXT NOT NULL DEFAULT '',
    id INTEGER NOT NULL,
    evse_id INTEGER NOT NULL,
    purpose TEXT NOT NULL,
    stack_level INTEGER NOT NULL,
    transaction_id TEXT,
    source TEXT NOT NULL,
    profile TEXT NOT NULL,
    PRIMARY KEY (station, id)
)
"""
CHARGING_PROFILES_COLUMNS = "id, evse_id, purpose, stack_level, transaction_id, source, profile"

# The security log (``blocks/security/log.py``, A04.FR.04): every security event, oldest first by
# ``seq`` (shared by the stations of a database: it only grows), bounded per station by the block
# (the oldest rows are dropped).  Made by migration 5; ``station`` and this index by migration 6.
SECURITY_LOG_INDEX = (
    "CREATE INDEX IF NOT EXISTS security_log_station ON security_log (station, seq)"
)

STATE_TABLE = """
CREATE TABLE IF NOT EXISTS state (
    station TEXT NOT NULL DEFAULT '',
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (station, key)
)
"""
LOCAL_AUTH_LIST_TABLE = """
CREATE TABLE IF NOT EXISTS local_auth_list (
    station TEXT NOT NULL DEFAULT '',
    token_key TEXT NOT NULL,
    id_token_info TEXT NOT NULL,
    PRIMARY KEY (station, token_key)
) WITHOUT ROWID
"""
LOCAL_AUTH_LIST_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS local_auth_list_version (
    station TEXT NOT NULL DEFAULT '' PRIMARY KEY,
    version INTEGER NOT NULL
)
"""
MONITOR_COLUMNS = (
    "id, kind, component, component_instance, evse, connector, variable, variable_instance, "
    "type, value, severity, tx, tripped"
)
VARIABLE_MONITORS_TABLE = """
CREATE TABLE IF NOT EXISTS variable_monitors (
    station TEXT NOT NULL DEFAULT '',
    id INTEGER NOT NULL,
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
    tripped INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (station, id)
)
"""
# The tables whose ids every station of a database shares (they only grow): ``station`` is their
# last column (migration 6 added it) and an index leads with it.
MESSAGES_TABLE = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    action TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    station TEXT NOT NULL DEFAULT ''
)
"""
DEAD_LETTERS_TABLE = """
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY,
    action TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    created REAL NOT NULL,
    set_aside REAL NOT NULL,
    reason TEXT NOT NULL,
    station TEXT NOT NULL DEFAULT ''
)
"""
SECURITY_LOG_TABLE = """
CREATE TABLE IF NOT EXISTS security_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp TEXT NOT NULL,
    type TEXT NOT NULL,
    tech_info TEXT,
    critical INTEGER NOT NULL,
    station TEXT NOT NULL DEFAULT ''
)
"""
MESSAGES_INDEX = "CREATE INDEX IF NOT EXISTS messages_station ON messages (station, id)"
DEAD_LETTERS_INDEX = "CREATE INDEX IF NOT EXISTS dead_letters_station ON dead_letters (station, id)"

# What migration 6 did: the tables whose primary key gained ``station`` were rebuilt (their DDL
# and the columns copied), the others gained the column and an index.
REKEYED: tuple[tuple[str, str, str], ...] = (
    ("state", STATE_TABLE, "key, value"),
    ("charging_profiles", CHARGING_PROFILES_TABLE, CHARGING_PROFILES_COLUMNS),
    ("local_auth_list", LOCAL_AUTH_LIST_TABLE, "token_key, id_token_info"),
    ("local_auth_list_version", LOCAL_AUTH_LIST_VERSION_TABLE, "version"),
    ("variable_monitors", VARIABLE_MONITORS_TABLE, MONITOR_COLUMNS),
)
GAINED_A_COLUMN: tuple[tuple[str, str], ...] = (
    ("messages", MESSAGES_INDEX),
    ("dead_letters", DEAD_LETTERS_INDEX),
    ("security_log", SECURITY_LOG_INDEX),
)
CURRENT_SCHEMA: tuple[str, ...] = (
    ATTRIBUTE_VALUE_TABLE,
    VERSION_TABLE,
    *(ddl for _table, ddl, _columns in REKEYED),
    MESSAGES_TABLE,
    DEAD_LETTERS_TABLE,
    SECURITY_LOG_TABLE,
    *(index for _table, index in GAINED_A_COLUMN),
)
