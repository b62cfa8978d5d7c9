"""Basic-auth password rules through the CSMS (issue 14; OCPP 2.0.1 A01, A00.FR.203/205/304 with
the 2025-01 errata), and the password-less test-rig profile 0."""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

import pytest
from support import PASSWORD, StationFactory, variable

from ocpp_station import Station
from ocpp_station.config import ConfigError, config_from_dict
from ocpp_station.csms import LocalCSMS

NEW_PASSWORD = "N3w pässword! with #symbols; and spaces~0123456789"  # 50 characters


def password_of(csms: LocalCSMS, sid: str) -> str | None:
    header = csms.auth_headers.get(sid)
    if header is None:
        return None
    return base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")[2]


def set_password(value: str) -> dict[str, Any]:
    return {
        "setVariableData": [
            {
                "component": {"name": "SecurityCtrlr"},
                "variable": {"name": "BasicAuthPassword"},
                "attributeValue": value,
            }
        ]
    }


async def test_new_password_reconnects_and_sticks_a01(
    csms: LocalCSMS, make_station: StationFactory, short_tmp: Path
) -> None:
    csms.policy.passwords = {"CS001": PASSWORD}
    station = await make_station(station_id="CS001", data_dir=short_tmp / "cs1")
    events: list[dict[str, Any]] = []
    station.subscribe(
        lambda topic, data: events.append(data) if topic == "security_event" else None
    )
    await csms.wait_for(lambda: station.online)
    assert csms.connections == 1 and password_of(csms, "CS001") == PASSWORD

    answer = await csms.send("CS001", "SetVariables", set_password(NEW_PASSWORD))
    assert answer["setVariableResult"][0]["attributeStatus"] == "Accepted"
    # A01.FR.03: the CSMS no longer accepts the old password.
    csms.policy.passwords = {"CS001": NEW_PASSWORD}
    # A01 scenario 3/4: the station disconnects and connects with the new password.
    await csms.wait_for(lambda: csms.connections == 2 and station.online)
    assert password_of(csms, "CS001") == NEW_PASSWORD
    # A01.FR.11: the change is in the security log, without the password (A01.FR.12).
    assert [e["type"] for e in events] == ["ReconfigurationOfSecurityParameters"]
    assert NEW_PASSWORD not in repr(events)

    # A lost connection: the reconnect uses the new password, never the old one.
    await csms.drop("CS001")
    await csms.wait_for(lambda: csms.connections == 3 and station.online)
    assert password_of(csms, "CS001") == NEW_PASSWORD

    # A restart with the old password still in the config: the stored one wins.
    await station.stop()
    again = await make_station(station_id="CS001", data_dir=short_tmp / "cs1")
    assert again.config.password == PASSWORD
    await csms.wait_for(lambda: csms.connections == 4 and again.online)
    assert password_of(csms, "CS001") == NEW_PASSWORD


@pytest.mark.parametrize("value", ["too-short-0123", "x" * 65])
async def test_a_password_outside_16_to_64_is_rejected_and_nothing_changes(
    csms: LocalCSMS, make_station: StationFactory, value: str
) -> None:
    station = await make_station()
    sid = station.config.id
    await csms.wait_for(lambda: station.online)
    answer = await csms.send(sid, "SetVariables", set_password(value))
    assert answer["setVariableResult"][0]["attributeStatus"] == "Rejected"
    await csms.drop(sid)
    await csms.wait_for(lambda: csms.connections == 2 and station.online)
    assert password_of(csms, sid) == PASSWORD  # A01.FR.04: the old credentials stay


async def test_config_password_with_any_symbols_starts_a00_fr_205(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """Errata 2025-01: no restriction on the password's characters (a ``!`` was refused)."""
    password = "with!exclamation&more$ymbols"
    csms.policy.passwords = {"CS001": password}
    station = await make_station(station_id="CS001", password=password)
    await csms.wait_for(lambda: station.online)
    assert password_of(csms, "CS001") == password


def profile_0_config(url: str, data_dir: Path) -> dict[str, Any]:
    return {
        "station": {
            "id": "RIG1",
            "csms_url": url,
            "data_dir": str(data_dir),
            "security_profile": 0,
        },
        "evse": [{"id": 1, "connectors": [1]}],
        "hal": {"backend": "sim"},
        "device_model": {
            "OCPPCommCtrlr.RetryBackOffWaitMinimum": 1,
            "OCPPCommCtrlr.RetryBackOffRandomRange": 0,
        },
    }


async def test_profile_0_connects_without_authorization_and_warns_every_time(
    csms: LocalCSMS, short_tmp: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ocpp_station")
    config = config_from_dict(profile_0_config(csms.url, short_tmp / "rig"), source="rig.toml")
    station = Station(config)
    await station.start()
    try:
        await csms.wait_for(lambda: station.online)
        assert "RIG1" in csms.auth_headers and csms.auth_headers["RIG1"] is None
        assert await variable(csms, "RIG1", "SecurityCtrlr", "SecurityProfile") == "0"

        def warnings() -> int:
            return sum("security profile 0" in r.getMessage() for r in caplog.records)

        assert warnings() == 1
        await csms.drop("RIG1")
        await csms.wait_for(lambda: csms.connections == 2 and station.online)
        assert warnings() == 2
    finally:
        await station.stop()


def test_profile_0_is_refused_for_wss(short_tmp: Path) -> None:
    with pytest.raises(ConfigError, match="profile 0"):
        config_from_dict(profile_0_config("wss://127.0.0.1:1/ocpp", short_tmp), source="rig.toml")
