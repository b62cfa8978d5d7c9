"""The transaction engine's configuration, read from the device model (TxCtrlr,
SampledDataCtrlr, AlignedDataCtrlr.TxEnded*, OCPPCommCtrlr.UnlockOnEVSideDisconnect)."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

from device_model import DeviceModel, VariableChange
from ocpp_station.blocks.transactions.engine import TxConfig
from ocpp_station.blocks.transactions.meter import parse_measurands


def measurands(dm: DeviceModel, component: str, variable: str) -> tuple[str, ...]:
    return parse_measurands(",".join(dm.get_list(component, variable)))


# Every value read_tx_config reads (component, variable: station-wide Actual values).
_READS = (
    ("TxCtrlr", "MaxEnergyOnInvalidId"),
    ("AlignedDataCtrlr", "Enabled"),
    ("TxCtrlr", "TxStartPoint"),
    ("TxCtrlr", "TxStopPoint"),
    ("TxCtrlr", "StopTxOnEVSideDisconnect"),
    ("TxCtrlr", "StopTxOnInvalidId"),
    ("TxCtrlr", "EVConnectionTimeOut"),
    ("SampledDataCtrlr", "TxUpdatedInterval"),
    ("SampledDataCtrlr", "TxStartedMeasurands"),
    ("SampledDataCtrlr", "TxUpdatedMeasurands"),
    ("SampledDataCtrlr", "TxEndedMeasurands"),
    ("SampledDataCtrlr", "Enabled"),
    ("SampledDataCtrlr", "TxEndedInterval"),
    ("AlignedDataCtrlr", "TxEndedInterval"),
    ("AlignedDataCtrlr", "TxEndedMeasurands"),
    ("OCPPCommCtrlr", "UnlockOnEVSideDisconnect"),
)
# The configs made of these values, by the values (a fleet's stations share one; immutable)
_MADE: dict[tuple[str | None, ...], TxConfig] = {}
_MADE_MAX = 32


def read_tx_config(dm: DeviceModel) -> TxConfig:
    """The engine's config of ``dm``'s values: the one made before of the same values, if any
    (what it is made of is these values only)."""
    values = tuple(dm.get(component, variable) for component, variable in _READS)
    made = _MADE.get(values)
    if made is None:
        made = _make_tx_config(dm)
        if len(_MADE) < _MADE_MAX:
            _MADE[values] = made
    return made


def _make_tx_config(dm: DeviceModel) -> TxConfig:
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


# What read_tx_config and TxSettings.may_start read: a change of any other variable keeps them
CONFIG_COMPONENTS = ("TxCtrlr", "SampledDataCtrlr", "AlignedDataCtrlr")
CONFIG_VARIABLES = {("OCPPCommCtrlr", "UnlockOnEVSideDisconnect")}


class TxSettings:
    """The engine's config and TxCtrlr.TxBeforeAcceptedEnabled, read from the device model once
    and kept until a variable they read changes (:meth:`changed`, a device-model subscriber): a
    CSMS or local change applies from the next input on.  ``registration()``: the station's
    registration state now."""

    def __init__(self, dm: DeviceModel, registration: Callable[[], str]) -> None:
        self._dm = dm
        self._registration = registration
        self._config: TxConfig | None = None
        self._held: tuple[TxConfig, TxConfig] | None = None  # (config, held_back(config))
        self._before_accepted: bool | None = None

    def drop(self) -> None:
        self._config = None
        self._before_accepted = None

    def changed(self, change: VariableChange) -> bool:
        """Forget what ``change`` may alter; True when it did (a variable they read)."""
        component = change.component.get("name")
        if (
            component in CONFIG_COMPONENTS
            or (component, change.variable.get("name")) in CONFIG_VARIABLES
        ):
            self.drop()
            return True
        return False

    def config(self) -> TxConfig:
        if self._config is None:
            self._config = read_tx_config(self._dm)
        return self._config

    def may_start(self) -> bool:
        """Not before the registration was Accepted, unless TxBeforeAcceptedEnabled."""
        if self._registration() == "Accepted":
            return True
        if self._before_accepted is None:
            self._before_accepted = self._dm.get_bool(
                "TxCtrlr", "TxBeforeAcceptedEnabled", default=False
            )
        return self._before_accepted

    def for_input(self) -> TxConfig:
        """The config for an input from the EVSE: :meth:`config`, with no start point that can
        hold while :meth:`may_start` says no."""
        cfg = self.config()
        if self.may_start():
            return cfg
        held = self._held
        if held is None or held[0] is not cfg:  # made once per config read
            held = self._held = (cfg, held_back(cfg))
        return held[1]
