"""ocpp-station: the firmware-side OCPP 2.0.1 client of a charging station.

The public API an embedding application uses::

    from ocpp_station import Station, load_config

    station = Station(load_config("station.toml"), on_reset=reboot_board)
    unsubscribe = station.subscribe(on_publication)   # topics: ocpp_station.TOPICS
    await station.start()
    ...
    await station.stop()

Names are imported on first use, so ``import ocpp_station`` costs nothing until one is needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ocpp_station.blocks.firmware.install import (
        FirmwareImage,
        InstallFailed,
        InstallStep,
        InstallVerificationFailed,
    )
    from ocpp_station.clock import Clock, ManualClock, OffsetClock, SystemClock
    from ocpp_station.config import ConfigError, StationConfig, config_from_dict, load_config
    from ocpp_station.dispatch.dispatcher import NotReady
    from ocpp_station.events import TOPICS, Listener
    from ocpp_station.rpc.errors import CallTimeout, ConnectionLost, OCPPError
    from ocpp_station.runtime import Station
    from ocpp_station.station import StationCore

_EXPORTS = {
    "Station": "ocpp_station.runtime",
    "StationCore": "ocpp_station.station",
    "StationConfig": "ocpp_station.config",
    "ConfigError": "ocpp_station.config",
    "load_config": "ocpp_station.config",
    "config_from_dict": "ocpp_station.config",
    "Clock": "ocpp_station.clock",
    "SystemClock": "ocpp_station.clock",
    "ManualClock": "ocpp_station.clock",
    "OffsetClock": "ocpp_station.clock",
    "NotReady": "ocpp_station.dispatch.dispatcher",
    "CallTimeout": "ocpp_station.rpc.errors",
    "ConnectionLost": "ocpp_station.rpc.errors",
    "OCPPError": "ocpp_station.rpc.errors",
    "TOPICS": "ocpp_station.events",
    "Listener": "ocpp_station.events",
    "FirmwareImage": "ocpp_station.blocks.firmware.install",
    "InstallFailed": "ocpp_station.blocks.firmware.install",
    "InstallStep": "ocpp_station.blocks.firmware.install",
    "InstallVerificationFailed": "ocpp_station.blocks.firmware.install",
}

__all__ = [
    "TOPICS",
    "CallTimeout",
    "Clock",
    "ConfigError",
    "ConnectionLost",
    "FirmwareImage",
    "InstallFailed",
    "InstallStep",
    "InstallVerificationFailed",
    "Listener",
    "ManualClock",
    "NotReady",
    "OCPPError",
    "OffsetClock",
    "Station",
    "StationConfig",
    "StationCore",
    "SystemClock",
    "config_from_dict",
    "load_config",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ocpp_station' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
