"""The [firmware] table of the station configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocpp_station.config import ConfigError, config_from_dict

BASE = {
    "station": {"id": "CS1", "csms_url": "ws://h/ocpp", "password": "example-password-0123"},
    "evse": [{"id": 1, "connectors": [1]}],
}


def test_firmware_table_is_read(tmp_path: Path) -> None:
    (tmp_path / "root.pem").write_text("pem")
    data = {
        **BASE,
        "firmware": {
            "install_command": ["/usr/bin/flash", "{file}"],
            "reboot_after_install": False,
            "manufacturer_root": "root.pem",
        },
    }
    config = config_from_dict(data, base=tmp_path)
    assert config.firmware_install_command == ("/usr/bin/flash", "{file}")
    assert config.firmware_reboot_after_install is False
    assert config.manufacturer_root == tmp_path / "root.pem"
    defaults = config_from_dict(dict(BASE), base=tmp_path)
    assert defaults.firmware_install_command is None
    assert defaults.firmware_reboot_after_install is True
    assert defaults.manufacturer_root is None


def test_firmware_table_errors_are_reported_together(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as bad:
        config_from_dict({**BASE, "firmware": {"install_command": [], "x": 1}}, base=tmp_path)
    assert len(bad.value.errors) == 2
    with pytest.raises(ConfigError) as missing:
        config_from_dict({**BASE, "firmware": {"manufacturer_root": "none.pem"}}, base=tmp_path)
    assert "firmware.manufacturer_root: file not found" in missing.value.errors[0]
