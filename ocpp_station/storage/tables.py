"""Table definitions the station store creates and a block's own store also uses (one DDL each).

Every table is keyed by ``station`` (schema version 6): the station's key where several stations
share one database, '' in a station's own ``station.db``."""

from __future__ import annotations

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
