"""The [station] security settings: passwords per A00.FR.205/304 (2025-01 errata), profile 0 only
for plain ws:// test rigs, profiles 1 and 2 need a password (A00.FR.203)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from device_model import DeviceModel
from ocpp_station import settings
from ocpp_station.config import ConfigError, StationConfig, config_from_dict
from ocpp_station.transport import TransportConfig, TransportError


def config(tmp_path: Path, **station: Any) -> StationConfig:
    data: dict[str, Any] = {
        "station": {"id": "CS1", "csms_url": "ws://h/ocpp", "data_dir": str(tmp_path), **station},
        "evse": [{"id": 1, "connectors": [1]}],
    }
    return config_from_dict(data, source="t.toml", base=tmp_path)


def errors(tmp_path: Path, **station: Any) -> str:
    with pytest.raises(ConfigError) as info:
        config(tmp_path, **station)
    return "\n".join(info.value.errors)


@pytest.mark.parametrize(
    "password",
    [
        "with!exclamation-0123",  # symbols are not restricted (A00.FR.205 errata 2025-01)
        "spaces and ümlauts äöü 0123",
        "x" * 16,
        "y" * 64,  # up to maxLimit, which may be as high as 64
    ],
)
def test_passwords_of_16_to_64_characters_of_any_kind(tmp_path: Path, password: str) -> None:
    cfg = config(tmp_path, password=password)
    assert cfg.password == password
    # and the device model takes it as its BasicAuthPassword (the seed of the first start)
    dm = DeviceModel.open(tmp_path / "dm.db", cfg.evse_map, settings.seed(cfg))
    try:
        assert dm.get("SecurityCtrlr", "BasicAuthPassword") == password
    finally:
        dm.close()


@pytest.mark.parametrize("password", ["x" * 15, "y" * 65])
def test_passwords_outside_16_to_64_are_refused(tmp_path: Path, password: str) -> None:
    assert "station.password" in errors(tmp_path, password=password)


@pytest.mark.parametrize("profile", [1, 2])
def test_profiles_1_and_2_need_a_password(tmp_path: Path, profile: int) -> None:
    url = "ws://h/ocpp" if profile == 1 else "wss://h/ocpp"
    extra = {} if profile == 1 else {"ca_file": "ca.pem"}
    (tmp_path / "ca.pem").write_text("x")
    text = errors(tmp_path, security_profile=profile, csms_url=url, **extra)
    assert f"security profile {profile} needs a password" in text


def test_profile_0_when_stated_on_ws(tmp_path: Path) -> None:
    cfg = config(tmp_path, security_profile=0)
    assert cfg.security_profile == 0 and cfg.password is None
    transport = TransportConfig(cfg.csms_url, cfg.id, security_profile=0)
    transport.check()
    assert transport.headers() == {}


def test_profile_0_is_refused_with_wss(tmp_path: Path) -> None:
    text = errors(tmp_path, security_profile=0, csms_url="wss://h/ocpp")
    assert "security profile 0" in text and "wss://" in text
    with pytest.raises(TransportError, match="profile 0"):
        TransportConfig("wss://h/ocpp", "CS1", security_profile=0).check()


def test_profile_0_with_a_password_is_refused(tmp_path: Path) -> None:
    assert "sends no password" in errors(tmp_path, security_profile=0, password="p" * 16)


def test_the_default_profile_is_1(tmp_path: Path) -> None:
    assert "security profile 1 needs a password" in errors(tmp_path)
