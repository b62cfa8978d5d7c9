"""The transaction engine's configuration, read from the device model (TxCtrlr,
SampledDataCtrlr, AlignedDataCtrlr.TxEnded*, OCPPCommCtrlr.UnlockOnEVSideDisconnect)."""

from __future__ import annotations

import dataclasses
import functools

from device_model import DeviceModel
from ocpp_station.blocks.transactions.engine import TxConfig
from ocpp_station.blocks.transactions.meter import parse_measurands


def measurands(dm: DeviceModel, component: str, variable: str) -> tuple[str, ...]:
    return parse_measurands(",".join(dm.get_list(component, variable)))


def read_tx_config(dm: DeviceModel) -> TxConfig:
    max_energy = dm.get_int("TxCtrlr", "MaxEnergyOnInvalidId", default=-1)
    aligned_on = dm.get_bool("AlignedDataCtrlr", "Enabled", default=True)
    return TxConfig(
        start_points=frozenset(dm.get_list("TxCtrlr", "TxStartPoint")),
        stop_points=frozenset(dm.get_list("TxCtrlr", "TxStopPoint")),
        stop_tx_on_ev_side_disconnect=dm.get_bool(
            "TxCtrlr", "StopTxOnEVSideDisconnect", default=True
        ),
        stop_tx_on_invalid_id=dm.get_bool("TxCtrlr", "StopTxOnInvalidId", default=True),
        max_energy_on_invalid_id=None if max_energy < 0 else max_energy,
        ev_connection_timeout=dm.get_float("TxCtrlr", "EVConnectionTimeOut", default=60.0),
        tx_updated_interval=dm.get_float("SampledDataCtrlr", "TxUpdatedInterval", default=0),
        tx_started_measurands=measurands(dm, "SampledDataCtrlr", "TxStartedMeasurands"),
        tx_updated_measurands=measurands(dm, "SampledDataCtrlr", "TxUpdatedMeasurands"),
        tx_ended_measurands=measurands(dm, "SampledDataCtrlr", "TxEndedMeasurands"),
        sampled_data_enabled=dm.get_bool("SampledDataCtrlr", "Enabled", default=True),
        tx_ended_interval=dm.get_float("SampledDataCtrlr", "TxEndedInterval", default=0),
        aligned_tx_ended_interval=(
            dm.get_float("AlignedDataCtrlr", "TxEndedInterval", default=0) if aligned_on else 0.0
        ),
        aligned_tx_ended_measurands=measurands(dm, "AlignedDataCtrlr", "TxEndedMeasurands"),
        unlock_on_ev_side_disconnect=dm.get_bool(
            "OCPPCommCtrlr", "UnlockOnEVSideDisconnect", default=True
        ),
    )


# TxCtrlr.TxBeforeAcceptedEnabled false: before the first Accepted BootNotificationResponse of
# this start no transaction starts (Part 2, B 1.1).  The engine then gets this start point, which
# never holds on this station (the HAL has no parking-bay sensor): its state keeps following the
# EVSE, and nothing starts until the registration is Accepted.
NO_START_BEFORE_ACCEPTED = frozenset({"ParkingBayOccupancy"})


@functools.lru_cache(maxsize=16)
def held_back(cfg: TxConfig) -> TxConfig:
    """``cfg`` with no start point that can hold while the registration is not Accepted
    (made once per distinct config: every HAL input of a starting station asks for it)."""
    return dataclasses.replace(cfg, start_points=NO_START_BEFORE_ACCEPTED)
