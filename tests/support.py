"""Helpers shared by the integration tests (import as ``from support import ...``)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ocpp_station import Station
from ocpp_station.config import StationConfig, config_from_dict
from ocpp_station.control.publications import shape

PASSWORD = "test-password-0123456"

StationFactory = Callable[..., Awaitable[Station]]


def station_config(
    csms_url: str,
    data_dir: Path,
    *,
    station_id: str = "CS001",
    evses: list[dict[str, Any]] | None = None,
    device_model: dict[str, Any] | None = None,
    hal: dict[str, Any] | None = None,
    control: Path | None = None,
    **station: Any,
) -> StationConfig:
    data: dict[str, Any] = {
        "station": {
            "id": station_id,
            "csms_url": csms_url,
            "data_dir": str(data_dir),
            "vendor": "TestVendor",
            "model": "TestModel",
            "serial_number": "SN-1",
            "firmware_version": "1.0.0",
            "password": PASSWORD,
            **station,
        },
        "evse": evses or [{"id": 1, "connectors": [1]}],
        "hal": hal or {"backend": "sim", "tick": 0.05},
        "device_model": {
            "OCPPCommCtrlr.RetryBackOffWaitMinimum": 1,
            "OCPPCommCtrlr.RetryBackOffRandomRange": 0,
            "OCPPCommCtrlr.MessageTimeout[Default]": 5,
            **(device_model or {}),
        },
    }
    if control is not None:
        data["control"] = {"socket": str(control)}
    return config_from_dict(data, source="test")


def to_toml(data: dict[str, Any]) -> str:
    """A config dict as TOML text (tables, arrays of tables, JSON-compatible scalars)."""
    lines: list[str] = []
    for section, body in data.items():
        if isinstance(body, list):
            for item in body:
                lines.append(f"[[{section}]]")
                lines += [f"{k} = {json.dumps(v)}" for k, v in item.items()]
        else:
            lines.append(f"[{section}]")
            lines += [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in body.items()]
    return "\n".join(lines) + "\n"


def everest(listener: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    """A bus listener that sees each publication as the control API shapes it (EVerest types)."""
    return lambda topic, data: listener(topic, shape(topic, data))
