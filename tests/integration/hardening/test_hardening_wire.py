"""Hardening, through the CSMS's websocket (issue 20): absurd limits, lone surrogates, strict OCPP
primitives, no credentials in the log at any level, and a log that a flood of bad frames cannot
fill.  The CSMS is the independent ``ocpp``-package one; raw frames go through ``send_raw``."""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from support import PASSWORD, StationFactory

from ocpp_station import Station
from ocpp_station.clock import iso
from ocpp_station.control.server import call
from ocpp_station.csms import LocalCSMS


def limit_profile(pid: int, limit: float, unit: str = "A") -> dict[str, Any]:
    return {
        "id": pid,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": pid,
                "chargingRateUnit": unit,
                "startSchedule": iso(time.time() - 60),
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
            }
        ],
    }


async def online(csms: LocalCSMS, make_station: StationFactory, **kwargs: Any) -> Station:
    station = await make_station(**kwargs)
    await csms.wait_for(lambda: station.online)
    return station


def limit_amps(station: Station, evse: int = 1) -> float | None:
    entry = next(e for e in station.status()["evses"] if e["id"] == evse)
    value: float | None = entry.get("limit_amps")
    return value


async def answer_to(csms: LocalCSMS, message_id: str) -> list[Any]:
    """The CALLERROR the station sent back for ``message_id``: [code, description, details]."""
    frame = await csms.wait_for(
        lambda: next(
            (
                f
                for f in csms.frames
                if f.direction == "in" and f.kind == 4 and f.message_id == message_id
            ),
            None,
        ),
        timeout=5,
    )
    answer: list[Any] = frame.payload
    return answer


async def still_serving(csms: LocalCSMS, station: Station) -> None:
    """The link was never dropped, and the station still answers."""
    result = await csms.send(station.config.id, "ClearCache", {})
    assert result["status"] in ("Accepted", "Rejected")
    assert csms.connections == 1 and station.connected


# -- limits ------------------------------------------------------------------------------------


async def test_an_absurd_limit_is_rejected_and_later_limits_are_still_enforced(
    csms: LocalCSMS, make_station: StationFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """K01: 1e308 A is beyond what the EVSE can carry: Rejected with a reason, nothing stored,
    and the enforcement keeps working for the next valid profile."""
    station = await online(csms, make_station)
    cs = station.config.id
    for limit, unit in ((1e308, "A"), (1e308, "W"), (5000.0, "A")):
        answer = await csms.send(
            cs,
            "SetChargingProfile",
            {"evseId": 1, "chargingProfile": limit_profile(1, limit, unit)},
        )
        assert answer["status"] == "Rejected", limit
        assert answer["statusInfo"]["reasonCode"] == "ValueTooHigh"
        assert "32 A" in answer["statusInfo"]["additionalInfo"]
    ok = await csms.send(
        cs, "SetChargingProfile", {"evseId": 1, "chargingProfile": limit_profile(2, 10)}
    )
    assert ok == {"status": "Accepted"}
    await csms.wait_for(lambda: limit_amps(station) == 10.0)
    high = await csms.send(
        cs, "SetChargingProfile", {"evseId": 1, "chargingProfile": limit_profile(2, 63)}
    )
    assert high == {"status": "Accepted"}  # above the rating but plausible: taken, capped
    await csms.wait_for(lambda: limit_amps(station) == 32.0)
    assert "station task" not in caplog.text


async def test_a_stored_absurd_profile_does_not_stop_enforcement_at_start(
    csms: LocalCSMS, make_station: StationFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """A 1e308 A profile an older release stored is in the data directory: the station starts,
    enforces (the hardware maximum caps it), and keeps enforcing what comes next."""
    first = await online(csms, make_station, station_id="CS001")
    await first.stop()
    db = sqlite3.connect(first.config.data_dir / "station.db")
    db.execute(
        "INSERT INTO charging_profiles"
        " (id, evse_id, purpose, stack_level, transaction_id, source, profile)"
        " VALUES (7, 1, 'TxDefaultProfile', 0, NULL, 'CSO', ?)",
        (json.dumps(limit_profile(7, 1e308)),),
    )
    db.commit()
    db.close()
    station = await online(csms, make_station, station_id="CS001")
    await csms.wait_for(lambda: limit_amps(station) == 32.0)
    ok = await csms.send(
        "CS001", "SetChargingProfile", {"evseId": 1, "chargingProfile": limit_profile(8, 12)}
    )
    assert ok == {"status": "Accepted"}
    await csms.wait_for(lambda: limit_amps(station) == 12.0)
    assert "failed" not in caplog.text and "Traceback" not in caplog.text


# -- lone surrogates ---------------------------------------------------------------------------


async def test_a_message_id_with_a_lone_surrogate_gets_a_callerror_and_the_link_stays(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await online(csms, make_station)
    await csms.send_raw(station.config.id, '[2,"ab\\ud800","Heartbeat",{}]')
    code, description, _ = await answer_to(csms, "-1")  # Part 4 4.2.3: the id cannot be read
    assert code == "RpcFrameworkError" and "message id" in description
    await still_serving(csms, station)


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        (
            "SetVariables",
            {
                "setVariableData": [
                    {
                        "attributeValue": "12\ud800",
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "HeartbeatInterval"},
                    }
                ]
            },
        ),
        (
            "GetVariables",
            {"getVariableData": [{"component": {"name": "OCPP\udc00"}, "variable": {"name": "X"}}]},
        ),
        (
            "RequestStartTransaction",
            {"idToken": {"idToken": "\ud800", "type": "ISO14443"}, "remoteStartId": 1},
        ),
    ],
)
async def test_a_lone_surrogate_in_a_payload_is_a_format_violation_and_the_link_stays(
    csms: LocalCSMS, make_station: StationFactory, action: str, payload: dict[str, Any]
) -> None:
    station = await online(csms, make_station)
    await csms.send_raw(station.config.id, json.dumps([2, f"s-{action}", action, payload]))
    code, description, _ = await answer_to(csms, f"s-{action}")
    assert code == "FormatViolation" and "UTF-8" in description  # Part 4 4.1.2, 4.3
    await still_serving(csms, station)
    assert not csms.received("Authorize") and not csms.received("TransactionEvent")


async def test_a_local_id_token_with_a_lone_surrogate_is_refused_and_never_sent(
    csms: LocalCSMS,
    make_station: StationFactory,
    short_tmp: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The card reader (here the control socket's sim methods) hands over a token UTF-8 cannot
    carry: refused on the station, never sent on in an Authorize; the link stays."""
    sock = short_tmp / "ctl.sock"
    station = await online(csms, make_station, control=sock)
    await call(sock, "sim.plug_in", {"evse": 1})
    await call(sock, "sim.present_id_token", {"evse": 1, "id_token": "card\ud800"})
    await csms.wait_for(lambda: "id token refused" in caplog.text)
    await still_serving(csms, station)
    assert not csms.received("Authorize")
    assert all("idToken" not in p for p in csms.received("TransactionEvent"))


# -- strict primitives -------------------------------------------------------------------------


async def test_heartbeat_interval_takes_ascii_digits_only(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await online(csms, make_station)
    values = ["٣", "５", " 7 ", "+7", "7.0", "60"]
    answer = await csms.send(
        station.config.id,
        "SetVariables",
        {
            "setVariableData": [
                {
                    "attributeValue": value,
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                }
                for value in values
            ]
        },
    )
    results = answer["setVariableResult"]
    assert [r["attributeStatus"] for r in results] == ["Rejected"] * 5 + ["Accepted"]
    assert {r["attributeStatusInfo"]["reasonCode"] for r in results[:5]} == {"InvalidValue"}


# -- the log -----------------------------------------------------------------------------------


async def test_no_credential_reaches_the_log_even_at_debug(
    csms: LocalCSMS, make_station: StationFactory, caplog: pytest.LogCaptureFixture
) -> None:
    new_password = "another-secret-password-42"
    with caplog.at_level(logging.DEBUG):
        station = await online(csms, make_station)
        answer = await csms.send(
            station.config.id,
            "SetVariables",
            {
                "setVariableData": [
                    {
                        "attributeValue": new_password,
                        "component": {"name": "SecurityCtrlr"},
                        "variable": {"name": "BasicAuthPassword"},
                    }
                ]
            },
        )
        assert answer["setVariableResult"][0]["attributeStatus"] == "Accepted"
    station_lines = "\n".join(
        r.getMessage()
        for r in caplog.records
        if not r.name.startswith(("ocpp.", "ocpp_station.csms", "websockets.server"))
        and r.name != "ocpp"
    )
    assert "Authorization" in station_lines  # the header line is there, its value is not
    for secret in (PASSWORD, new_password, base64.b64encode(f"CS001:{PASSWORD}".encode()).decode()):
        assert secret not in station_lines


async def test_a_flood_of_bad_frames_is_answered_but_logged_only_a_few_times(
    csms: LocalCSMS, make_station: StationFactory, caplog: pytest.LogCaptureFixture
) -> None:
    station = await online(csms, make_station)
    cs = station.config.id
    with caplog.at_level(logging.INFO, "ocpp_station"):
        for n in range(300):
            await csms.send_raw(cs, "this is not json" if n % 2 else f'[2,"r{n}","Reset",{{}}]')
        await csms.wait_for(
            lambda: sum(1 for f in csms.frames if f.direction == "in" and f.kind == 4) >= 300,
            timeout=20,
        )
    station_records = [r for r in caplog.records if r.name == f"ocpp_station.{cs}"]
    assert len(station_records) <= 20, len(station_records)
    await still_serving(csms, station)
