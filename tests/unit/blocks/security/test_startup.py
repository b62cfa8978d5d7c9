"""The start's security event, written where the station store is opened (A04.FR.04, B01)."""

from __future__ import annotations

from pathlib import Path

from ocpp_station.blocks.security.log import SecurityLogStore
from ocpp_station.blocks.security.startup import record_startup
from ocpp_station.storage import StationStore

T0 = 1_767_225_600.0


def test_the_start_event_goes_to_the_log_and_the_queue(tmp_path: Path) -> None:
    store = StationStore.open(tmp_path)
    try:
        log = SecurityLogStore(store.connection)
        record = record_startup(log, store.messages, "RemoteReset", lambda: T0)
        assert record.errors == []
        assert record.event == {
            "type": "ResetOrReboot",
            "timestamp": "2026-01-01T00:00:00.000Z",
            "critical": True,
            "techInfo": "boot reason RemoteReset",
        }
        (entry,) = log.entries()
        assert (entry.type, entry.tech_info, entry.critical) == (
            "ResetOrReboot",
            "boot reason RemoteReset",
            True,
        )
        head = store.messages.head()
        assert head is not None and head.action == "SecurityEventNotification"
        assert head.payload == {
            "type": "ResetOrReboot",
            "timestamp": "2026-01-01T00:00:00.000Z",
            "techInfo": "boot reason RemoteReset",
        }
        again = record_startup(log, store.messages, "PowerUp", lambda: T0 + 1)
        assert again.event["type"] == "StartupOfTheDevice" and len(store.messages) == 2
    finally:
        store.close()


def test_a_store_that_cannot_write_is_reported_not_raised(tmp_path: Path) -> None:
    store = StationStore.open(tmp_path)
    try:
        store.connection.execute("PRAGMA query_only=ON")  # every write fails
        record = record_startup(
            SecurityLogStore(store.connection), store.messages, "PowerUp", lambda: T0
        )
        assert record.event["type"] == "StartupOfTheDevice"
        assert len(record.errors) == 2 and "security log" in record.errors[0]
        assert "could not be queued" in record.errors[1]
        store.connection.execute("PRAGMA query_only=OFF")
        assert len(store.messages) == 0
        assert store.connection.execute("SELECT COUNT(*) FROM security_log").fetchone() == (0,)
    finally:
        store.close()
