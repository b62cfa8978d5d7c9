"""The station-wide settings read from the device model, each in one place with one default.

What the RPC layer, the transport and the queue sender need (``OCPPCommCtrlr``), and the
``[station]`` facts the device model is seeded with.  Read at the moment they are needed, so a
change from the CSMS or the control API takes effect at once.
"""

from __future__ import annotations

from typing import Any

from device_model import DeviceModel
from ocpp_station.config import StationConfig
from ocpp_station.dispatch.sender import RetryPolicy
from ocpp_station.transport import BackOff

COMM = "OCPPCommCtrlr"


def message_timeout(dm: DeviceModel) -> float:
    """OCPPCommCtrlr.MessageTimeout[Default]: how long a CALL waits for its answer."""
    return dm.get_float(COMM, "MessageTimeout", variable_instance="Default", default=30.0)


def retry_policy(dm: DeviceModel) -> RetryPolicy:
    """E13: MessageAttempts / MessageAttemptInterval [TransactionEvent] for queued messages."""
    return RetryPolicy(
        attempts=dm.get_int(
            COMM, "MessageAttempts", variable_instance="TransactionEvent", default=3
        ),
        interval=dm.get_float(
            COMM, "MessageAttemptInterval", variable_instance="TransactionEvent", default=60.0
        ),
    )


def backoff(dm: DeviceModel) -> BackOff:
    """B04/A00: the reconnect back-off of RetryBackOffWaitMinimum/RandomRange/RepeatTimes."""
    return BackOff(
        dm.get_float(COMM, "RetryBackOffWaitMinimum", default=3.0),
        dm.get_float(COMM, "RetryBackOffRandomRange", default=2.0),
        dm.get_int(COMM, "RetryBackOffRepeatTimes", default=5),
    )


def ping_interval(dm: DeviceModel) -> float:
    return dm.get_float(COMM, "WebSocketPingInterval", default=30.0)


def queue_all_messages(dm: DeviceModel) -> bool:
    return dm.get_bool(COMM, "QueueAllMessages", default=False)


def offline_threshold(dm: DeviceModel) -> float:
    """B04: seconds offline after which every connector's status is sent again on reconnect."""
    return dm.get_float(COMM, "OfflineThreshold", default=600.0)


def seed(cfg: StationConfig) -> dict[str, Any]:
    """The ``[station]`` facts the device model reports, under the config's own
    ``[device_model]`` values (which win)."""
    values: dict[str, Any] = {
        "ChargingStation.VendorName": cfg.vendor,
        "ChargingStation.Model": cfg.model,
        "SecurityCtrlr.Identity": cfg.id,
        "SecurityCtrlr.SecurityProfile": cfg.security_profile,
    }
    if cfg.serial_number:
        values["ChargingStation.SerialNumber"] = cfg.serial_number
    if cfg.firmware_version:
        values["ChargingStation.FirmwareVersion"] = cfg.firmware_version
    if cfg.password:
        values["SecurityCtrlr.BasicAuthPassword"] = cfg.password
    return {**values, **cfg.device_model}
