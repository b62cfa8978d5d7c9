"""SetNetworkProfile content checks (B09) and NetworkConfigurationPriority checks (B10, A05)."""

from __future__ import annotations

from typing import Any

import pytest

from ocpp_station.blocks.networking.profiles import (
    NetworkProfile,
    check_priority,
    check_set_network_profile,
    url_problem,
)

SLOTS = (0, 1, 2)


def request(slot: Any = 1, **data: Any) -> dict[str, Any]:
    connection = {
        "ocppVersion": "OCPP20",
        "ocppTransport": "JSON",
        "ocppCsmsUrl": "ws://csms.example:9000/ocpp",
        "messageTimeout": 30,
        "securityProfile": 1,
        "ocppInterface": "Wired0",
    }
    connection.update(data)
    return {"configurationSlot": slot, "connectionData": connection}


def test_a_valid_profile_is_accepted_with_what_the_slot_holds_b09_fr_01() -> None:
    verdict = check_set_network_profile(request(2, ocppInterface="Wireless1"), SLOTS, 1)
    assert verdict.accepted
    assert verdict.profile == NetworkProfile("ws://csms.example:9000/ocpp", 1, "Wireless1", 30)


@pytest.mark.parametrize(
    ("payload", "current", "reason"),
    [
        (request(3), 1, "InvalidConfSlot"),  # B09.FR.05: not in the valuesList
        (request(-1), 1, "InvalidConfSlot"),
        (request(True), 1, "InvalidConfSlot"),
        (request(1, securityProfile=1), 2, "NoSecurityDowngrade"),  # B09.FR.04
        (request(1, securityProfile=0), 1, "NoSecurityDowngrade"),
        (request(1, securityProfile=4), 1, "InvalidNetworkConf"),
        (request(1, ocppVersion="OCPP16"), 1, "InvalidNetworkConf"),
        (request(1, ocppTransport="SOAP"), 1, "InvalidNetworkConf"),
        (request(1, ocppInterface="Wired4"), 1, "InvalidNetworkConf"),
        (request(1, messageTimeout=0), 1, "InvalidNetworkConf"),
        (request(1, messageTimeout=100000), 1, "InvalidNetworkConf"),
        (request(1, apn={"apn": "x", "apnAuthentication": "AUTO"}), 1, "InvalidNetworkConf"),
        (
            request(
                1, vpn={"server": "v", "user": "u", "key": "k", "password": "p", "type": "IPSec"}
            ),
            1,
            "InvalidNetworkConf",
        ),
        (
            request(1, ocppCsmsUrl="wss://csms.example/ocpp"),
            1,
            "InvalidNetworkConf",
        ),  # profile 1: ws
        (
            request(1, securityProfile=2, ocppCsmsUrl="ws://csms.example/ocpp"),
            1,
            "InvalidNetworkConf",
        ),
        (
            request(1, securityProfile=3, ocppCsmsUrl="http://csms.example/"),
            1,
            "InvalidNetworkConf",
        ),
        (request(1, ocppCsmsUrl="ws:///no-host"), 1, "InvalidNetworkConf"),
        (request(1, ocppCsmsUrl="ws://h:99999/"), 1, "InvalidNetworkConf"),
        (request(1, ocppCsmsUrl="ws://h/x?y=1"), 1, "InvalidNetworkConf"),
        (request(1, ocppCsmsUrl="ws://h/" + "x" * 600), 1, "InvalidNetworkConf"),
    ],
)
def test_invalid_content_is_rejected_with_a_reason_b09_fr_02(
    payload: dict[str, Any], current: int, reason: str
) -> None:
    verdict = check_set_network_profile(payload, SLOTS, current)
    assert verdict.status == "Rejected" and verdict.profile is None
    assert verdict.reason == reason and verdict.info
    assert len(verdict.reason) <= 20  # StatusInfoType.reasonCode


def test_a_higher_profile_with_tls_is_accepted_a05() -> None:
    verdict = check_set_network_profile(
        request(2, securityProfile=3, ocppCsmsUrl="wss://csms.example/ocpp"), SLOTS, 1
    )
    assert verdict.accepted and verdict.profile is not None
    assert verdict.profile.security_profile == 3


def test_url_rules_follow_the_security_profile() -> None:
    assert url_problem("ws://127.0.0.1:9000/ocpp", 0) is None
    assert url_problem("ws://127.0.0.1:9000/ocpp", 1) is None
    assert url_problem("wss://csms/ocpp", 2) is None
    assert url_problem("wss://csms/ocpp", 0) is not None
    assert url_problem("ws://csms/ocpp", 3) is not None


def test_the_record_round_trip_and_a_damaged_record() -> None:
    profile = NetworkProfile("wss://csms/ocpp", 2, "Wired1", 45)
    assert NetworkProfile.from_record(profile.to_record()) == profile
    seed = NetworkProfile("ws://csms/ocpp", 1)
    assert NetworkProfile.from_record(seed.to_record()) == seed
    assert NetworkProfile.from_record({"url": 3, "securityProfile": 1}) is None
    assert NetworkProfile.from_record({"url": "ws://csms/ocpp", "securityProfile": "1"}) is None
    assert NetworkProfile.from_record({"url": "ws://csms/ocpp", "securityProfile": 2}) is None


HELD = {
    0: NetworkProfile("ws://a/ocpp", 1),
    1: NetworkProfile("ws://b/ocpp", 1, message_timeout=30),
    2: NetworkProfile("wss://c/ocpp", 3, message_timeout=30),
}


def nothing_missing(level: int) -> str | None:
    return None


def test_a_priority_of_held_slots_is_allowed_b10_fr_01() -> None:
    assert check_priority("1,0", HELD, 1, nothing_missing) is None
    assert check_priority("2,1,0", HELD, 1, nothing_missing) is None


def test_a_priority_naming_an_empty_slot_is_rejected_b10_fr_02() -> None:
    held = {0: HELD[0]}
    assert check_priority("1,0", held, 1, nothing_missing) == (
        "InvalidNetworkConf",
        "slot 1 holds no network connection profile",
    )


def test_a_priority_with_a_lower_profile_is_rejected() -> None:
    reason = check_priority("2,0", HELD, 3, nothing_missing)
    assert reason is not None and reason[0] == "NoSecurityDowngrade"
    assert check_priority("2", HELD, 3, nothing_missing) is None


def test_an_upgrade_without_its_credentials_is_rejected_a05_fr_02_03() -> None:
    def no_station_certificate(level: int) -> str | None:
        return "no station certificate" if level == 3 else None

    assert check_priority("2,0", HELD, 1, no_station_certificate) == (
        "InvalidNetworkConf",
        "slot 2: no station certificate",
    )
    assert check_priority("1,0", HELD, 1, no_station_certificate) is None  # same level
