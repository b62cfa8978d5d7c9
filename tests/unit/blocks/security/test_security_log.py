"""The security log (A04.FR.04): persistent in station.db (migration 5), rolling, one line per
event."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocpp_station.blocks.diagnostics.rules import select_lines
from ocpp_station.blocks.security.log import LIMIT, LogEntry, SecurityLogStore, log_line
from ocpp_station.clock import parse_iso
from ocpp_station.storage import StationStore


def stamp(n: int) -> str:
    return f"2026-03-01T10:{n // 60:02d}:{n % 60:02d}Z"


def test_events_survive_a_restart(tmp_path: Path) -> None:
    store = StationStore.open(tmp_path)
    log = SecurityLogStore(store.connection)
    log.append(stamp(1), "StartupOfTheDevice", "boot reason PowerUp", True)
    log.append(stamp(2), "FailedToAuthenticateAtCsms", "HTTP 401", False)
    store.close()
    store = StationStore.open(tmp_path)
    try:
        entries = SecurityLogStore(store.connection).entries()
    finally:
        store.close()
    assert [(e.timestamp, e.type, e.tech_info, e.critical) for e in entries] == [
        (stamp(1), "StartupOfTheDevice", "boot reason PowerUp", True),
        (stamp(2), "FailedToAuthenticateAtCsms", "HTTP 401", False),
    ]
    assert entries[0].seq < entries[1].seq


def test_the_log_is_bounded_and_drops_the_oldest(tmp_path: Path) -> None:
    store = StationStore.open(tmp_path)
    try:
        log = SecurityLogStore(store.connection, limit=5)
        for n in range(12):
            log.append(stamp(n), f"Event{n}", None, False)
        assert len(log) == 5
        assert [e.type for e in log.entries()] == [f"Event{n}" for n in range(7, 12)]
    finally:
        store.close()


def test_the_default_limit() -> None:
    assert LIMIT == 1000


def test_a_limit_below_one_is_refused(tmp_path: Path) -> None:
    store = StationStore.open(tmp_path)
    try:
        with pytest.raises(ValueError, match="at least one"):
            SecurityLogStore(store.connection, limit=0)
    finally:
        store.close()


def test_a_line_per_event_that_the_time_window_selects() -> None:
    entries = [
        LogEntry(1, stamp(1), "StartupOfTheDevice", "boot reason PowerUp", True),
        LogEntry(2, stamp(5), "InvalidCsmsCertificate", "bad\nchain", True),
        LogEntry(3, stamp(9), "FailedToAuthenticateAtCsms", None, False),
    ]
    lines = [log_line(e) for e in entries]
    assert lines[0] == (
        f"{stamp(1)} StartupOfTheDevice critical=yes seq=1 techInfo=boot reason PowerUp\n"
    )
    assert lines[1].endswith("techInfo=bad chain\n")  # one event, one line
    assert lines[2] == f"{stamp(9)} FailedToAuthenticateAtCsms critical=no seq=3\n"
    window = list(select_lines(lines, parse_iso(stamp(2)), parse_iso(stamp(6))))
    assert window == [lines[1]]
