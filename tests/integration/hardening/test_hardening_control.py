"""Hardening, through the control socket and the data directory (issue 20): strict JSON both
ways, schema formats checked, a queued message that can never be valid set aside, the socket
path never taken from a file, a directory or a live station, secrets kept private."""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
from support import StationFactory

from ocpp_station.control.server import SocketPathError, call
from ocpp_station.csms import LocalCSMS


def strict(raw: bytes) -> dict[str, Any]:
    """Parse a reply as a strict JSON parser would (no NaN, no Infinity)."""

    def refuse(name: str) -> Any:
        raise AssertionError(f"{name} in a reply: {raw[:100]!r}")

    reply: dict[str, Any] = json.loads(raw, parse_constant=refuse)
    return reply


async def lines(sock: Path, *requests: bytes) -> list[dict[str, Any]]:
    reader, writer = await asyncio.open_unix_connection(str(sock), limit=1 << 21)
    try:
        replies = []
        for request in requests:
            writer.write(request + b"\n")
            await writer.drain()
            raw = await asyncio.wait_for(reader.readline(), 5)
            assert raw, f"the server closed the connection after {request[:60]!r}"
            replies.append(strict(raw))
        return replies
    finally:
        writer.close()


async def test_nan_infinity_huge_and_deep_lines_get_error_replies_on_one_connection(
    make_station: StationFactory, short_tmp: Path
) -> None:
    sock = short_tmp / "ctl.sock"
    await make_station(control=sock)
    bad = [
        b'{"id": NaN, "method": "status"}',
        b'{"id": 1, "method": "status", "params": {"x": Infinity}}',
        b'{"id": ' + b"7" * 5000 + b', "method": "status"}',
        b'{"id": 2, "method": "sim.plug_in", "params": {"evse": 1e999}}',
        b'{"id": 3, "method": "status", "params": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        b'{"id": ' + b"[" * 500 + b"]" * 500 + b', "method": "nope"}',
    ]
    replies = await lines(sock, *bad, b'{"id": 4, "method": "status"}')
    assert [r["error"]["code"] for r in replies[:4]] == ["ParseError"] * 4
    assert all(r["id"] is None for r in replies[:4])
    assert replies[4]["error"]["code"] in ("ParseError", "InvalidParams")
    assert replies[5]["error"]["code"] == "UnknownMethod"
    assert replies[6]["id"] == 4 and replies[6]["result"]["connected"] in (True, False)


async def test_a_security_event_with_an_invalid_timestamp_is_refused(
    csms: LocalCSMS, make_station: StationFactory, short_tmp: Path
) -> None:
    sock = short_tmp / "ctl.sock"
    station = await make_station(control=sock)
    # online, and the start's own security event (StartupOfTheDevice) delivered
    await csms.wait_for(lambda: station.online and station.status()["queued_messages"] == 0)
    event = {"type": "TamperDetectionActivated", "timestamp": "2026-13-45T99:00:00Z"}
    [reply] = await lines(
        sock, json.dumps({"id": 1, "method": "security_event", "params": {"event": event}}).encode()
    )
    assert reply["error"]["code"] == "InvalidParams" and "timestamp" in reply["error"]["message"]
    status = await call(sock, "status")
    assert status["queued_messages"] == 0
    await call(sock, "security_event", {"event": {"type": "TamperDetectionActivated"}})
    sent = await csms.wait_received("SecurityEventNotification", count=2)
    assert [e["type"] for e in sent] == ["StartupOfTheDevice", "TamperDetectionActivated"]


async def test_a_queued_message_that_can_never_be_valid_is_set_aside_not_retried(
    csms: LocalCSMS, make_station: StationFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """An older release queued a SecurityEventNotification with a bad timestamp: it is moved
    out of the queue into dead_letters with one log line, and what waits behind it goes at once
    (not after 30 s and more of retries)."""
    first = await make_station(station_id="CS001")
    # online, and the start's own security event (StartupOfTheDevice) delivered
    await csms.wait_for(lambda: first.online and first.status()["queued_messages"] == 0)
    await first.stop()
    db = sqlite3.connect(first.config.data_dir / "station.db")
    bad = {"type": "TamperDetectionActivated", "timestamp": "not-a-time"}
    good = {"type": "FirmwareUpdated", "timestamp": "2026-01-01T00:00:00Z"}
    for payload in (bad, good):
        db.execute(
            "INSERT INTO messages (action, payload, created) VALUES (?, ?, 0)",
            ("SecurityEventNotification", json.dumps(payload)),
        )
    db.commit()
    db.close()
    station = await make_station(station_id="CS001")
    # behind the message set aside, FirmwareUpdated goes at once (then this start's own event)
    delivered = await csms.wait_received("SecurityEventNotification", count=2, timeout=5)
    assert [e["type"] for e in delivered][:2] == ["StartupOfTheDevice", "FirmwareUpdated"]
    await csms.wait_for(lambda: station.status()["queued_messages"] == 0)
    db = sqlite3.connect(station.config.data_dir / "station.db")
    dead = db.execute("SELECT action, payload, reason FROM dead_letters").fetchall()
    db.close()
    assert len(dead) == 1 and json.loads(dead[0][1]) == bad and "timestamp" in dead[0][2]
    set_aside = [r for r in caplog.records if "set aside" in r.getMessage()]
    assert len(set_aside) == 1
    assert "CALLERROR" not in caplog.text  # nothing was sent, so nothing was answered


async def test_monitoring_a_write_only_variable_is_refused_and_never_published(
    csms: LocalCSMS, make_station: StationFactory, short_tmp: Path
) -> None:
    sock = short_tmp / "ctl.sock"
    station = await make_station(control=sock)
    await csms.wait_for(lambda: station.online)
    password = {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}}
    reader, writer = await asyncio.open_unix_connection(str(sock))
    try:
        request = {
            "id": 1,
            "method": "monitor_variables",
            "params": {"component_variables": [password]},
        }
        writer.write(json.dumps(request).encode() + b"\n" + b'{"id": 2, "method": "subscribe"}\n')
        await writer.drain()
        refused = strict(await reader.readline())
        assert (
            refused["error"]["code"] == "InvalidParams"
            and "write-only" in refused["error"]["message"]
        )
        strict(await reader.readline())  # subscribed to every topic
        secret = "a-brand-new-password-123"
        answer = await csms.send(
            station.config.id,
            "SetVariables",
            {"setVariableData": [{**password, "attributeValue": secret}]},
        )
        assert answer["setVariableResult"][0]["attributeStatus"] == "Accepted"
        seen = b""
        while True:
            try:
                seen += await asyncio.wait_for(reader.readline(), 0.5)
            except TimeoutError:
                break
        assert secret.encode() not in seen
    finally:
        writer.close()


async def test_the_data_directory_and_its_files_are_private(
    csms: LocalCSMS, make_station: StationFactory, short_tmp: Path
) -> None:
    """After a real run: 0700 for the directory, 0600 for every SQLite file (the Basic-auth
    password is in there), also the -wal and -shm SQLite makes later."""
    data = short_tmp / "fresh" / "data"
    station = await make_station(data_dir=data)
    await csms.wait_for(lambda: station.online)
    entries = sorted(data.rglob("*"))
    files = [f for f in entries if f.is_file()]
    folders = [d for d in entries if d.is_dir()]  # e.g. logs/ of the diagnostics log
    assert {f.name for f in files} >= {"station.db", "station.db-wal", "station.db-shm"}
    assert {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}
    assert {stat.S_IMODE(d.stat().st_mode) for d in [data, *folders]} == {0o700}


# -- the socket path ---------------------------------------------------------------------------


@pytest.mark.parametrize("what", ["file", "directory"])
async def test_a_file_or_directory_at_the_socket_path_is_refused(
    make_station: StationFactory, short_tmp: Path, what: str
) -> None:
    sock = short_tmp / "ctl.sock"
    if what == "file":
        sock.write_text("precious\n")
    else:
        sock.mkdir()
    station = await make_station(start=False, control=sock)
    with pytest.raises(SocketPathError) as err:
        await station.start()
    message = str(err.value)
    assert str(sock) in message and "\n" not in message
    assert ("not a socket" in message) if what == "file" else ("directory" in message)
    assert sock.read_text() == "precious\n" if what == "file" else sock.is_dir()
    assert not station.started  # the core did not start either


async def test_the_live_socket_of_a_running_station_is_not_taken_over(
    make_station: StationFactory, short_tmp: Path
) -> None:
    sock = short_tmp / "ctl.sock"
    first = await make_station(control=sock)
    second = await make_station(start=False, control=sock)
    with pytest.raises(SocketPathError, match="live socket"):
        await second.start()
    assert (await call(sock, "status"))["id"] == first.config.id


async def test_only_a_stale_socket_is_replaced(
    make_station: StationFactory, short_tmp: Path
) -> None:
    sock = short_tmp / "ctl.sock"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(sock))
    stale.close()  # a socket file nobody listens on (a station that was killed)
    station = await make_station(control=sock)
    assert (await call(sock, "status"))["id"] == station.config.id
