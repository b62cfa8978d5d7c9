"""``examples/systemd/``: the service file and its station config agree and are valid."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ocpp_station.config import load_config

FOLDER = Path(__file__).resolve().parents[3] / "examples" / "systemd"
UNIT = FOLDER / "ocpp-station.service"


def unit_settings(text: str) -> dict[str, dict[str, list[str]]]:
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_service_is_notify_with_watchdog_state_dir_unprivileged_and_hardened() -> None:
    service = unit_settings(UNIT.read_text())["Service"]

    def one(key: str) -> str:
        assert len(service.get(key, [])) == 1, key
        return service[key][0]

    assert one("Type") == "notify"
    assert one("NotifyAccess") == "main"
    assert int(one("WatchdogSec")) >= 10
    assert one("Restart") == "on-failure"  # includes a watchdog timeout
    assert one("ExecStart").endswith(" run --config /etc/ocpp-station/station.toml")
    assert one("User") not in ("", "root") and one("StateDirectory") == "ocpp-station"
    assert one("RuntimeDirectory") == "ocpp-station"
    assert one("NoNewPrivileges") == "yes"
    assert one("ProtectSystem") == "strict"
    assert one("ProtectHome") == "yes"
    assert one("CapabilityBoundingSet") == ""
    assert one("StandardError") == "journal"


def test_example_config_matches_the_unit(tmp_path: Path) -> None:
    shutil.copy(FOLDER / "station.toml", tmp_path / "station.toml")
    (tmp_path / "csms-ca.pem").write_text("placeholder\n")  # the config checks it exists
    config = load_config(tmp_path / "station.toml")
    assert config.data_dir == Path("/var/lib/ocpp-station")  # StateDirectory=ocpp-station
    assert config.control_socket == Path("/run/ocpp-station/control.sock")  # RuntimeDirectory=
    assert config.http_listen == "127.0.0.1:8080"
    assert config.security_profile == 2


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    program = Path(sys.executable).parent / "ocpp-station"
    if analyze is None or not program.exists():
        pytest.skip("systemd-analyze or the installed ocpp-station script is not available")
    unit = tmp_path / "ocpp-station.service"
    unit.write_text(UNIT.read_text().replace("/opt/ocpp-station/bin/ocpp-station", str(program)))
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if "ocpp-station.service" in line
    ]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr
