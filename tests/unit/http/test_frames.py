"""What the status pages show of the OCPP traffic: recent frames, rates, round trips, rows."""

from __future__ import annotations

import pytest

from ocpp_station.http.frames import FrameStats, RecentFrames, frame_head, percentile
from ocpp_station.http.pages import station_row
from ocpp_station.http.server import parse_listen


def test_frame_head() -> None:
    head = frame_head('[2,"abc-1","BootNotification",{"reason":"PowerUp"}]')
    assert head is not None and (head.type, head.message_id, head.action) == (
        2,
        "abc-1",
        "BootNotification",
    )
    result = frame_head('[3, "abc-1", {"status":"Accepted"}]')
    assert result is not None and (result.type, result.message_id, result.action) == (
        3,
        "abc-1",
        None,
    )
    error = frame_head('[4,"x","GenericError","",{}]')
    assert error is not None and error.type == 4 and error.action is None
    assert frame_head("not a frame") is None
    assert frame_head('[5,"x"]') is None


def test_recent_frames_name_results_after_their_call_and_mask_secrets() -> None:
    frames = RecentFrames(size=3)
    frames.add(
        "in", '[2,"7","SetVariables",{"setVariableData":[{"attributeValue":"pw-123456789', 10.0
    )
    frames.add("out", '[2,"m1","Heartbeat",{}]', 11.0)
    frames.add("in", '[3,"m1",{"currentTime":"2026-01-01T00:00:00Z"}]', 11.1)
    frames.add("in", "garbage", 12.0)
    got = frames.list()
    assert len(got) == 3  # the oldest fell out
    assert got[0] == {
        "t": 11.0,
        "dir": "out",
        "type": "CALL",
        "message_id": "m1",
        "action": "Heartbeat",
        "text": '[2,"m1","Heartbeat",{}]',
    }
    assert got[1]["type"] == "CALLRESULT" and got[1]["action"] == "Heartbeat"
    assert "type" not in got[2] and got[2]["text"] == "garbage"

    masked = RecentFrames()
    masked.add(
        "in",
        '[2,"7","SetVariables",{"setVariableData":[{"attributeValue":"new-password-0123456",'
        '"variable":{"name":"BasicAuthPassword"},"component":{"name":"SecurityCtrlr"}}]}]',
        1.0,
    )
    assert "new-password-0123456" not in masked.list()[0]["text"]


def test_percentile_nearest_rank() -> None:
    values = sorted(float(v) for v in range(1, 101))
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile(values, 1.0) == 100
    assert percentile([], 0.5) is None


def test_frame_stats_rates_and_round_trips() -> None:
    stats = FrameStats(window=10)
    for i in range(20):  # 2 CALLs a second from two stations, answered after 10 and 30 ms
        t = 100.0 + i * 0.5
        sid = "A" if i % 2 else "B"
        stats.add(sid, "out", f'[2,"{i}","Heartbeat",{{}}]', t)
        stats.add(sid, "in", f'[3,"{i}",{{}}]', t + (0.01 if sid == "A" else 0.03))
    stats.add("A", "in", '[3,"999",{}]', 109.9)  # no CALL of ours: no sample
    stats.add("A", "out", '[2,"late","Heartbeat",{}]', 109.9)  # not answered yet
    snap = stats.snapshot(110.0)
    assert snap["messages_per_second"] == {"in": 2.1, "out": 2.1}
    assert snap["messages_total"] == {"in": 21, "out": 21}
    rtt = snap["round_trip_ms"]
    assert rtt["samples"] == 20
    assert (rtt["p50"], rtt["p90"], rtt["max"]) == (10.0, 30.0, 30.0)
    assert snap["pending_calls"] == 1
    later = stats.snapshot(200.0)  # old seconds and samples age out
    assert later["messages_per_second"] == {"in": 0.0, "out": 0.0}
    assert later["round_trip_ms"]["samples"] == 0 and later["round_trip_ms"]["p50"] is None


def test_station_row() -> None:
    status = {
        "id": "CS-0001",
        "connected": True,
        "registration": "Accepted",
        "evses": [
            {
                "id": 1,
                "connectors": [{"id": 1, "status": "Occupied"}],
                "transaction": {"id": "tx1", "charging_state": "Charging", "seq_no": 3},
                "meter": {"energy_wh": 1500.0, "power_w": 7360.0},
            },
            {"id": 2, "connectors": [{"id": 1, "status": "Available"}], "transaction": None},
        ],
        "queued_messages": 2,
    }
    assert station_row(status) == {
        "id": "CS-0001",
        "connected": True,
        "registration": "Accepted",
        "connectors": ["Occupied", "Available"],
        "transactions": ["tx1"],
        "charging_states": ["Charging"],
        "power_w": 7360.0,
        "energy_wh": 1500.0,
        "queued": 2,
    }


def test_parse_listen() -> None:
    assert parse_listen("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert parse_listen("[::1]:0") == ("::1", 0)
    assert parse_listen("charger.local:80") == ("charger.local", 80)
    for bad in ("8080", ":8080", "host:", "host:http"):
        with pytest.raises(ValueError):
            parse_listen(bad)
