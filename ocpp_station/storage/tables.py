"""Table definitions the station store creates and a block's own store also uses (one DDL each)."""

from __future__ import annotations

# The smart-charging profile store (``blocks/smart_charging/store.py``): created by migration 1,
# and by the profile store itself when it runs on a file of its own.
CHARGING_PROFILES_TABLE = """
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

# The security log (``blocks/security/log.py``, A04.FR.04): every security event, oldest first by
# ``seq``; bounded by the block (the oldest rows are dropped).  Created by migration 5.
SECURITY_LOG_TABLE = """
CREATE TABLE IF NOT EXISTS security_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp TEXT NOT NULL,
    type TEXT NOT NULL,
    tech_info TEXT,
    critical INTEGER NOT NULL
)
"""
