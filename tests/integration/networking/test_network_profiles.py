"""Network connection profiles through two real CSMSs (B09 Setting a new NetworkConnectionProfile,
B10 Migrate to new CSMS, A05 Upgrade Charging Station Security Profile).

CSMS A is the ``csms`` fixture (the config file's connection, slot 0); CSMS B is a second
``ocpp``-package CSMS on another port, or a TCP listener that counts the station's attempts and
drops them (a CSMS that is down)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pki import make_pki
from support import StationFactory, variable

from ocpp_station import Station
from ocpp_station.csms import LocalCSMS

WAIT = 30.0  # seconds: generous, the machine may be loaded
FAST_RETRIES = {"OCPPCommCtrlr.RetryBackOffRepeatTimes": 0}  # every reconnect wait is 1 s


def profile(url: str, security_profile: int = 1, timeout: int = 20) -> dict[str, Any]:
    return {
        "ocppVersion": "OCPP20",
        "ocppTransport": "JSON",
        "ocppCsmsUrl": url,
        "messageTimeout": timeout,
        "securityProfile": security_profile,
        "ocppInterface": "Wired0",
    }


async def set_network_profile(
    csms: LocalCSMS, sid: str, slot: int, data: dict[str, Any]
) -> dict[str, Any]:
    return await csms.send(
        sid, "SetNetworkProfile", {"configurationSlot": slot, "connectionData": data}
    )


async def set_variable(
    csms: LocalCSMS, sid: str, component: str, name: str, value: str
) -> dict[str, Any]:
    response = await csms.send(
        sid,
        "SetVariables",
        {
            "setVariableData": [
                {
                    "component": {"name": component},
                    "variable": {"name": name},
                    "attributeValue": value,
                }
            ]
        },
    )
    result: dict[str, Any] = response["setVariableResult"][0]
    return result


def boots(csms: LocalCSMS, sid: str) -> list[str]:
    return [b["reason"] for b in csms.received("BootNotification", sid)]


@pytest.fixture
async def csms_b() -> AsyncIterator[LocalCSMS]:
    server = LocalCSMS()
    await server.start()
    yield server
    await server.stop()


class DownCsms:
    """A TCP port where a CSMS should be: every connection is counted and closed at once."""

    def __init__(self) -> None:
        self.attempts = 0
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> DownCsms:
        async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.attempts += 1
            writer.close()

        self.server = await asyncio.start_server(refuse, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


async def online_at_a(csms: LocalCSMS, make_station: StationFactory, **kwargs: Any) -> Station:
    kwargs.setdefault("device_model", FAST_RETRIES)
    station = await make_station(**kwargs)
    await csms.wait_for(lambda: station.online, WAIT)
    return station


async def test_set_network_profile_then_priority_and_reset_boots_at_the_new_csms_b09_b10(
    csms: LocalCSMS, csms_b: LocalCSMS, make_station: StationFactory, short_tmp: Path
) -> None:
    station = await online_at_a(csms, make_station, data_dir=short_tmp / "cs")
    sid = station.config.id
    # B09.FR.06/B09 scenario: the slots are the valuesList of NetworkConfigurationPriority
    [info] = (
        await csms.send(
            sid,
            "GetReport",
            {
                "requestId": 1,
                "componentVariable": [
                    {
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "NetworkConfigurationPriority"},
                    }
                ],
            },
        ),
    )
    assert info["status"] == "Accepted"
    [report] = await csms.wait_received("NotifyReport", station=sid)
    [entry] = report["reportData"]
    assert entry["variableCharacteristics"]["valuesList"] == "0,1,2"
    assert entry["variableAttribute"][0]["mutability"] == "ReadWrite"

    answer = await set_network_profile(csms, sid, 1, profile(csms_b.url))
    assert answer == {"status": "Accepted"}  # B09.FR.01
    # B09 remark: the open connection stays as it is
    assert await variable(csms, sid, "OCPPCommCtrlr", "ActiveNetworkProfile") == "0"
    result = await set_variable(csms, sid, "OCPPCommCtrlr", "NetworkConfigurationPriority", "1,0")
    assert result["attributeStatus"] == "Accepted"  # B10.FR.01
    assert csms.connections == 1 and csms_b.connections == 0

    assert (await csms.send(sid, "Reset", {"type": "OnIdle"}))["status"] == "Accepted"
    # B10.FR.04/06: after the reboot the station connects to the first entry: CSMS B
    await csms_b.wait_for(lambda: boots(csms_b, sid) == ["RemoteReset"] and station.online, WAIT)
    assert csms.connections == 1
    assert await variable(csms_b, sid, "OCPPCommCtrlr", "ActiveNetworkProfile") == "1"
    # the profile's messageTimeout is the one the station now waits for answers
    assert await variable(csms_b, sid, "OCPPCommCtrlr", "MessageTimeout", instance="Default") == (
        "20"
    )
    assert csms_b.received("StatusNotification", sid)  # online at B as after a boot

    # the profile and the priority survive a restart: the station comes back to B
    await station.stop()
    again = await make_station(station_id=sid, data_dir=short_tmp / "cs", device_model=FAST_RETRIES)
    await csms_b.wait_for(lambda: len(boots(csms_b, sid)) == 2 and again.online, WAIT)
    assert csms.connections == 1
    assert await variable(csms_b, sid, "OCPPCommCtrlr", "NetworkConfigurationPriority") == "1,0"


async def test_a_csms_that_is_down_falls_back_after_the_attempts_b10_fr_03_07_10(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    down = await DownCsms().start()
    try:
        station = await online_at_a(csms, make_station)
        sid = station.config.id
        assert (await set_network_profile(csms, sid, 2, profile(down.url)))["status"] == (
            "Accepted"
        )
        attempts = await set_variable(
            csms, sid, "OCPPCommCtrlr", "NetworkProfileConnectionAttempts", "2"
        )
        assert attempts["attributeStatus"] == "Accepted"
        priority = await set_variable(
            csms, sid, "OCPPCommCtrlr", "NetworkConfigurationPriority", "2,0"
        )
        assert priority["attributeStatus"] == "Accepted"
        assert (await csms.send(sid, "Reset", {"type": "Immediate"}))["status"] == "Accepted"

        # B10.FR.03: two attempts on slot 2, then slot 0, where the station boots again
        await csms.wait_for(
            lambda: boots(csms, sid) == ["PowerUp", "RemoteReset"] and station.online, WAIT
        )
        assert down.attempts == 2
        assert await variable(csms, sid, "OCPPCommCtrlr", "ActiveNetworkProfile") == "0"

        # CSMS B comes up on that port; a lost connection starts from the top of the priority
        # (B10.FR.03, 2025-06 errata): the station moves to B without a reboot and registers
        # there with a BootNotification (B10.FR.10)
        port = down.port
        await down.stop()
        csms_b = await LocalCSMS(port=port).start()
        try:
            await csms.drop(sid)
            await csms_b.wait_for(lambda: len(boots(csms_b, sid)) == 1 and station.online, WAIT)
            assert await variable(csms_b, sid, "OCPPCommCtrlr", "ActiveNetworkProfile") == "2"
            assert csms_b.received("StatusNotification", sid)
        finally:
            await csms_b.stop()
    finally:
        await down.stop()


async def test_bad_profiles_and_priorities_are_rejected_b09_fr_02_04_05_b10_fr_02(
    csms: LocalCSMS, csms_b: LocalCSMS, make_station: StationFactory
) -> None:
    station = await online_at_a(csms, make_station)
    sid = station.config.id
    cases = [
        (1, profile(csms_b.url, security_profile=0), "NoSecurityDowngrade"),  # B09.FR.04
        (3, profile(csms_b.url), "InvalidConfSlot"),  # B09.FR.05
        (999, profile(csms_b.url), "InvalidConfSlot"),  # TC_B_43: slot 999
        (1, {**profile(csms_b.url), "ocppVersion": "OCPP16"}, "InvalidNetworkConf"),
        (1, profile("wss://127.0.0.1:1/ocpp"), "InvalidNetworkConf"),  # profile 1 is ws://
    ]
    for slot, data, reason in cases:
        answer = await set_network_profile(csms, sid, slot, data)
        assert answer["status"] == "Rejected", (slot, data)  # B09.FR.02
        assert answer["statusInfo"]["reasonCode"] == reason

    # B10.FR.02: a priority naming an empty slot is Rejected and changes nothing
    result = await set_variable(csms, sid, "OCPPCommCtrlr", "NetworkConfigurationPriority", "2,0")
    assert result["attributeStatus"] == "Rejected"
    assert result["attributeStatusInfo"]["reasonCode"] == "InvalidNetworkConf"
    assert await variable(csms, sid, "OCPPCommCtrlr", "NetworkConfigurationPriority") == "0"

    # A05.FR.02: a slot of security profile 2 is stored, but naming it without a CSMS root
    # certificate (no ca_file) is Rejected
    answer = await set_network_profile(csms, sid, 2, profile("wss://127.0.0.1:1/ocpp", 2))
    assert answer == {"status": "Accepted"}
    result = await set_variable(csms, sid, "OCPPCommCtrlr", "NetworkConfigurationPriority", "2,0")
    assert result["attributeStatus"] == "Rejected"
    assert "CSMS root certificate" in result["attributeStatusInfo"]["additionalInfo"]
    answer = await set_network_profile(csms, sid, 1, profile("wss://127.0.0.1:1/ocpp", 3))
    assert answer == {"status": "Accepted"}
    result = await set_variable(csms, sid, "OCPPCommCtrlr", "NetworkConfigurationPriority", "1,0")
    assert result["attributeStatus"] == "Rejected"
    assert "security profile 3 needs" in result["attributeStatusInfo"]["additionalInfo"]
    assert await variable(csms, sid, "SecurityCtrlr", "SecurityProfile") == "1"
    assert csms.connections == 1  # nothing of it touched the connection


async def test_security_profile_upgrade_and_failed_upgrade_a05(
    csms: LocalCSMS, make_station: StationFactory, short_tmp: Path
) -> None:
    pki = make_pki(short_tmp / "pki")
    stranger = make_pki(short_tmp / "other")  # a CSMS whose certificate the station must refuse
    wrong = await LocalCSMS(ssl_context=stranger.server_ssl_context()).start()
    right = await LocalCSMS(ssl_context=pki.server_ssl_context()).start()
    try:
        station = await online_at_a(csms, make_station, ca_file=str(pki.ca_cert))
        sid = station.config.id
        events: list[dict[str, Any]] = []
        station.subscribe(
            lambda topic, data: events.append(data) if topic == "security_event" else None
        )
        assert (await set_network_profile(csms, sid, 1, profile(wrong.url, 2)))["status"] == (
            "Accepted"
        )
        priority = await set_variable(
            csms, sid, "OCPPCommCtrlr", "NetworkConfigurationPriority", "1,0"
        )
        assert priority["attributeStatus"] == "Accepted"  # A05.FR.04
        assert (await csms.send(sid, "Reset", {"type": "Immediate"}))["status"] == "Accepted"
        # the upgrade fails (TLS refused, 3 attempts): back to the profile that worked
        await csms.wait_for(lambda: len(boots(csms, sid)) == 2 and station.online, 2 * WAIT)
        assert wrong.connections == 0
        assert await variable(csms, sid, "SecurityCtrlr", "SecurityProfile") == "1"

        # the same upgrade to a CSMS with the right certificate
        assert (await set_network_profile(csms, sid, 1, profile(right.url, 2)))["status"] == (
            "Accepted"
        )
        assert (await csms.send(sid, "Reset", {"type": "Immediate"}))["status"] == "Accepted"
        await right.wait_for(lambda: boots(right, sid) == ["RemoteReset"] and station.online, WAIT)
        # A05.FR.06: the new profile is the station's; the slot of profile 1 is gone
        assert await variable(right, sid, "SecurityCtrlr", "SecurityProfile") == "2"
        assert await variable(right, sid, "OCPPCommCtrlr", "NetworkConfigurationPriority") == "1"
        # no way back through OCPP: a profile 1 slot is refused, and so is naming slot 0
        answer = await set_network_profile(right, sid, 0, profile(csms.url, 1))
        assert answer["statusInfo"]["reasonCode"] == "NoSecurityDowngrade"
        result = await set_variable(
            right, sid, "OCPPCommCtrlr", "NetworkConfigurationPriority", "1,0"
        )
        assert result["attributeStatus"] == "Rejected"
        # A05.FR.03 (TC_A_21): profile 3 without a station certificate is Rejected
        answer = await set_network_profile(right, sid, 2, profile(right.url, 3))
        assert answer == {"status": "Accepted"}
        result = await set_variable(
            right, sid, "OCPPCommCtrlr", "NetworkConfigurationPriority", "2,1"
        )
        assert result["attributeStatus"] == "Rejected"
        assert "station certificate" in result["attributeStatusInfo"]["additionalInfo"]
        # the change is a security event of the station's log (not a critical one: A04)
        await right.wait_for(
            lambda: (
                [
                    e.get("techInfo")
                    for e in events
                    if e["type"] == "ReconfigurationOfSecurityParameters"
                ]
                == ["SecurityCtrlr.SecurityProfile 1 -> 2"]
            )
        )
    finally:
        await wrong.stop()
        await right.stop()


async def test_a_changed_config_connection_is_tried_first_again(
    csms: LocalCSMS, csms_b: LocalCSMS, make_station: StationFactory, short_tmp: Path
) -> None:
    """The config file seeds slot 0; once the CSMS moved the station, the stored slots win over
    a restart, until an operator changes the config file's connection: then slot 0 is that
    connection again and comes first."""
    station = await online_at_a(csms, make_station, data_dir=short_tmp / "cs")
    sid = station.config.id
    assert (await set_network_profile(csms, sid, 1, profile(csms_b.url)))["status"] == "Accepted"
    result = await set_variable(csms, sid, "OCPPCommCtrlr", "NetworkConfigurationPriority", "1,0")
    assert result["attributeStatus"] == "Accepted"
    assert (await csms.send(sid, "Reset", {"type": "Immediate"}))["status"] == "Accepted"
    await csms_b.wait_for(lambda: len(boots(csms_b, sid)) == 1 and station.online, WAIT)
    await station.stop()

    site = csms.url.replace("/ocpp", "/site")  # the operator edits csms_url on site
    again = await make_station(
        url=site, station_id=sid, data_dir=short_tmp / "cs", device_model=FAST_RETRIES
    )
    await csms.wait_for(lambda: len(boots(csms, sid)) == 2 and again.online, WAIT)
    assert csms_b.connections == 1
    assert await variable(csms, sid, "OCPPCommCtrlr", "NetworkConfigurationPriority") == "0,1"
    assert await variable(csms, sid, "OCPPCommCtrlr", "ActiveNetworkProfile") == "0"


async def test_a_profile_stored_in_the_slot_in_use_applies_after_a_reboot_b09(
    csms: LocalCSMS, csms_b: LocalCSMS, make_station: StationFactory
) -> None:
    """B09 remark: changing the profile of the slot in use does not change the connection, not
    even a reconnect after a lost connection; the next reboot uses it."""
    station = await online_at_a(csms, make_station)
    sid = station.config.id
    assert (await set_network_profile(csms, sid, 0, profile(csms_b.url)))["status"] == "Accepted"
    await csms.drop(sid)
    await csms.wait_for(lambda: csms.connections == 2 and station.online, WAIT)
    assert csms_b.connections == 0
    assert (await csms.send(sid, "Reset", {"type": "Immediate"}))["status"] == "Accepted"
    await csms_b.wait_for(lambda: boots(csms_b, sid) == ["RemoteReset"] and station.online, WAIT)
    assert csms.connections == 2
    assert await variable(csms_b, sid, "OCPPCommCtrlr", "ActiveNetworkProfile") == "0"
