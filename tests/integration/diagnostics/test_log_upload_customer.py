"""Log upload (N01) and customer information (N09, N10) end to end (issue 16).

A real station (sim HAL) against the ``ocpp``-package CSMS; logs go to a real HTTP server started
here.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest
from filetransfer import FileServer, free_port_url
from support import StationFactory, sim

from ocpp_station import Station
from ocpp_station.clock import iso
from ocpp_station.csms import LocalCSMS


@pytest.fixture
def http_server() -> Iterator[FileServer]:
    server = FileServer().start()
    yield server
    server.stop()


async def online(csms: LocalCSMS, make_station: StationFactory) -> Station:
    station = await make_station()
    await csms.wait_for(lambda: station.online)
    return station


def log_statuses(csms: LocalCSMS) -> list[tuple[str, int | None]]:
    return [(p["status"], p.get("requestId")) for p in csms.received("LogStatusNotification")]


def get_log(location: str, request_id: int = 3, **extra: Any) -> dict[str, Any]:
    return {
        "logType": "DiagnosticsLog",
        "requestId": request_id,
        "retries": 0,
        "log": {"remoteLocation": location},
        **extra,
    }


async def test_get_log_uploads_the_diagnostics_log(
    csms: LocalCSMS, make_station: StationFactory, http_server: FileServer
) -> None:
    """N01.FR.01/04/08/09: the file is named, uploaded (POST with its filename, N01.FR.19) and
    reported Uploading → Uploaded with the requestId (N01.FR.07)."""
    station = await online(csms, make_station)
    station.log.warning("a line for the diagnostics log")
    answer = await csms.send("CS001", "GetLog", get_log(http_server.url("/logs")))
    assert answer["status"] == "Accepted"
    filename = answer["filename"]
    assert filename.startswith("CS001-DiagnosticsLog-3-")
    await csms.wait_for(lambda: ("Uploaded", 3) in log_statuses(csms))
    assert log_statuses(csms) == [("Uploading", 3), ("Uploaded", 3)]
    [upload] = http_server.uploads
    assert upload.method == "POST"
    assert f'filename="{filename}"' in upload.body.decode()
    assert b"a line for the diagnostics log" in upload.body
    assert station.config.data_dir.joinpath("logs", "diagnostics.log").stat().st_size > 0


async def test_time_window_limits_the_uploaded_records(
    csms: LocalCSMS, make_station: StationFactory, http_server: FileServer
) -> None:
    """GetLog's latestTimestamp: records after it stay out of the file."""
    station = await online(csms, make_station)
    station.log.warning("before the window closes")
    await asyncio.sleep(0.05)
    latest = iso(station.now())
    await asyncio.sleep(0.05)
    station.log.warning("after the window closed")
    request = get_log(http_server.url("/logs"), request_id=4)
    request["log"]["latestTimestamp"] = latest
    await csms.send("CS001", "GetLog", request)
    await csms.wait_for(lambda: ("Uploaded", 4) in log_statuses(csms))
    body = http_server.uploads[0].body
    assert b"before the window closes" in body
    assert b"after the window closed" not in body


async def test_unreachable_upload_location_gives_upload_failure(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """N01.FR.10: UploadFailure after the (here: one) retry."""
    await online(csms, make_station)
    request = {**get_log(free_port_url("/logs"), request_id=5), "retries": 1, "retryInterval": 1}
    assert (await csms.send("CS001", "GetLog", request))["status"] == "Accepted"
    await csms.wait_for(lambda: ("UploadFailure", 5) in log_statuses(csms), timeout=15)
    assert log_statuses(csms) == [("Uploading", 5), ("UploadFailure", 5)]


async def test_refused_upload_gives_permission_denied(
    csms: LocalCSMS, make_station: StationFactory, http_server: FileServer
) -> None:
    """N01.FR.10: a 403 is PermissionDenied at once (no retry can cure it)."""
    http_server.status["/logs"] = 403
    await online(csms, make_station)
    request = {**get_log(http_server.url("/logs"), request_id=6), "retries": 3}
    await csms.send("CS001", "GetLog", request)
    await csms.wait_for(lambda: ("PermissionDenied", 6) in log_statuses(csms))
    assert http_server.requests == [("POST", "/logs")]


async def test_security_log_and_trigger(
    csms: LocalCSMS, make_station: StationFactory, http_server: FileServer
) -> None:
    """N01.FR.03: a SecurityLog is uploaded (the header, then the security log's events: here
    the start's StartupOfTheDevice, A04.FR.04); a TriggerMessage afterwards reports Idle without
    a requestId (N01.FR.13)."""
    station = await online(csms, make_station)
    request = {**get_log(http_server.url("/sec"), request_id=8), "logType": "SecurityLog"}
    await csms.send("CS001", "GetLog", request)
    await csms.wait_for(lambda: ("Uploaded", 8) in log_statuses(csms))
    assert b"SecurityLog of CS001" in http_server.uploads[0].body
    assert b" StartupOfTheDevice critical=yes " in http_server.uploads[0].body
    # the upload is over once the CSMS has answered its Uploaded notification (until then a
    # trigger still reports it Uploading)
    await csms.wait_for(lambda: station.status()["log_upload"]["uploading"] is False)
    answer = await csms.send(
        "CS001", "TriggerMessage", {"requestedMessage": "LogStatusNotification"}
    )
    assert answer["status"] == "Accepted"
    await csms.wait_for(lambda: log_statuses(csms)[-1] == ("Idle", None))


def customer_parts(csms: LocalCSMS, request_id: int) -> list[dict[str, Any]]:
    return [p for p in csms.received("NotifyCustomerInformation") if p["requestId"] == request_id]


async def ask(csms: LocalCSMS, request_id: int, **flags: Any) -> list[dict[str, Any]]:
    payload = {
        "requestId": request_id,
        "report": False,
        "clear": False,
        "idToken": {"idToken": "TOKEN1", "type": "ISO14443"},
        **flags,
    }
    answer = await csms.send("CS001", "CustomerInformation", payload)
    assert answer["status"] == "Accepted"
    parts: list[dict[str, Any]] = await csms.wait_for(
        lambda: (p := customer_parts(csms, request_id)) and not p[-1]["tbc"] and p
    )
    assert [p["seqNo"] for p in parts] == list(range(len(parts)))
    return parts


async def test_customer_information_reports_and_clears_a_cached_token(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """N09.FR.05 report, N10.FR.03 clear-and-report, N09.FR.06 nothing left afterwards."""
    station = await online(csms, make_station)
    sim(station).present_id_token(1, "TOKEN1", "ISO14443")  # Authorize: the answer is cached
    await csms.wait_for(lambda: any(f.action == "Authorize" and f.kind == 3 for f in csms.frames))
    deadline = time.monotonic() + 5
    ids = itertools.count(1)
    parts = await ask(csms, next(ids), report=True)
    while "TOKEN1" not in parts[0]["data"] and time.monotonic() < deadline:
        await asyncio.sleep(0.1)  # the cache is written right after the Authorize answer
        parts = await ask(csms, next(ids), report=True)
    assert "TOKEN1" in parts[0]["data"] and "AuthorizationCache" in parts[0]["data"]
    cleared = await ask(csms, 100, report=True, clear=True)
    assert "TOKEN1" in cleared[0]["data"]
    after = await ask(csms, 101, report=True)
    assert after[0]["data"] == "No customer data found"
    only_clear = await ask(csms, 102, clear=True)
    assert only_clear[0]["data"] == "Customer data cleared: 0 record(s)"


async def test_customer_information_needs_exactly_one_reference(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """N09.FR.09: two references (or none) are Invalid; N09.FR.07: neither flag is Rejected."""
    await online(csms, make_station)
    both = {
        "requestId": 1,
        "report": True,
        "clear": False,
        "idToken": {"idToken": "TOKEN1", "type": "ISO14443"},
        "customerIdentifier": "customer-1",
    }
    assert (await csms.send("CS001", "CustomerInformation", both))["status"] == "Invalid"
    neither = {"requestId": 2, "report": False, "clear": False, "customerIdentifier": "c"}
    assert (await csms.send("CS001", "CustomerInformation", neither))["status"] == "Rejected"


async def test_customer_information_reports_a_listed_token_and_keeps_the_list(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """N09: a token in the local authorization list is reported; N10.FR.03: a clear leaves the
    list (and its version) as the CSMS sent it."""
    await online(csms, make_station)
    listed = {"idToken": {"idToken": "TOKEN1", "type": "ISO14443"}}
    update = {
        "versionNumber": 3,
        "updateType": "Full",
        "localAuthorizationList": [{**listed, "idTokenInfo": {"status": "Accepted"}}],
    }
    assert (await csms.send("CS001", "SendLocalList", update))["status"] == "Accepted"
    parts = await ask(csms, 200, report=True, clear=True)
    assert "LocalAuthorizationList" in parts[0]["data"] and "TOKEN1" in parts[0]["data"]
    again = await ask(csms, 201, report=True)
    assert "LocalAuthorizationList" in again[0]["data"]
    assert (await csms.send("CS001", "GetLocalListVersion", {}))["versionNumber"] == 3
