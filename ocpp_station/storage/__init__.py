"""The station store: one SQLite file per station holding the device model's values, the
persistent message queue, the blocks' state records and the charging profiles.

Open it with :meth:`StationStore.open`; see :mod:`ocpp_station.storage.store` for the durability
policy.
"""

from ocpp_station.storage.connection import StorageError
from ocpp_station.storage.health import StorageHealth, StorageUnavailable
from ocpp_station.storage.messages import TRANSACTION_EVENT, MessageQueue, QueuedMessage
from ocpp_station.storage.migrations import SCHEMA_VERSION
from ocpp_station.storage.state import StateRecords
from ocpp_station.storage.store import STORE_FILE, StationStore

__all__ = [
    "SCHEMA_VERSION",
    "STORE_FILE",
    "TRANSACTION_EVENT",
    "MessageQueue",
    "QueuedMessage",
    "StateRecords",
    "StationStore",
    "StorageError",
    "StorageHealth",
    "StorageUnavailable",
]
