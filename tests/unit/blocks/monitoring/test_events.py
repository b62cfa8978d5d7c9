"""EventData and NotifyEvent building, level and offline rules (N05, N07, N08)."""

from __future__ import annotations

from ocpp_station.blocks.monitoring import events
from ocpp_station.blocks.monitoring.events import Tech
from ocpp_station.blocks.monitoring.monitors import (
    HARD_WIRED,
    PRECONFIGURED,
    Address,
    Monitor,
)
from ocpp_station.blocks.monitoring.rules import Firing

EVSE1 = Address("EVSE", None, 1, 0, "Power", None)
STATION = Address("ChargingStation", None, 0, 0, "AvailabilityState", None)


def test_threshold_event_has_cleared_tech_and_transaction() -> None:
    m = Monitor(4, PRECONFIGURED, EVSE1, "UpperThreshold", 7000, 4, transaction=True)
    data = events.event_data(
        Firing(m, "Alerting", "7400.0", cleared=False),
        event_id=12,
        timestamp="2026-01-01T00:00:00.000Z",
        tech=Tech("OverCurrent", "fault OverCurrent raised"),
        transaction_id="tx-1",
    )
    assert data == {
        "eventId": 12,
        "timestamp": "2026-01-01T00:00:00.000Z",
        "trigger": "Alerting",
        "actualValue": "7400.0",
        "eventNotificationType": "PreconfiguredMonitor",
        "component": {"name": "EVSE", "evse": {"id": 1}},
        "variable": {"name": "Power"},
        "variableMonitoringId": 4,
        "cleared": False,
        "techCode": "OverCurrent",
        "techInfo": "fault OverCurrent raised",
        "transactionId": "tx-1",
    }


def test_write_only_value_is_empty_and_long_values_are_cut() -> None:
    m = Monitor(5, HARD_WIRED, STATION, "Delta", 1, 1)
    secret = events.event_data(
        Firing(m, "Delta", "hunter2hunter2"), event_id=1, timestamp="t", write_only=True
    )
    assert secret["actualValue"] == ""  # N07.FR.10
    assert "cleared" not in secret
    cut = events.event_data(Firing(m, "Delta", "x" * 50), event_id=2, timestamp="t", value_size=8)
    assert cut["actualValue"] == "x" * 8


def test_notify_event_is_one_part() -> None:
    payload = events.notify_event([{"eventId": 1}], "2026-01-01T00:00:00.000Z")
    assert payload == {
        "generatedAt": "2026-01-01T00:00:00.000Z",
        "seqNo": 0,
        "tbc": False,
        "eventData": [{"eventId": 1}],
    }


def test_watched_event_has_no_monitor_id() -> None:
    data = events.watched_event(STATION, "Occupied", event_id=3, timestamp="t")
    assert "variableMonitoringId" not in data
    assert (data["trigger"], data["eventNotificationType"]) == ("Delta", "CustomMonitor")


def test_level_and_offline_severity() -> None:
    assert events.reported(4, 4) and not events.reported(5, 4)  # N07.FR.15
    assert events.kept_offline(2, 2) and not events.kept_offline(3, 2)  # N07.FR.04


def test_transaction_monitors() -> None:
    running = {1: "tx-1"}
    assert events.active(False, STATION, {})
    assert not events.active(True, EVSE1, {})
    assert events.active(True, EVSE1, running)
    assert not events.active(True, Address("EVSE", None, 2, 0, "Power", None), running)
    assert events.active(True, STATION, running)
    assert events.transaction_for(EVSE1, running) == "tx-1"
    assert events.transaction_for(STATION, running) == "tx-1"
    assert events.transaction_for(STATION, {1: "a", 2: "b"}) is None
