"""The engine's config is made once per set of the values it is made of (a fleet's stations
share it): those values are exactly the ones it reads, and another value makes another config."""

from __future__ import annotations

import sqlite3
from typing import Any

from device_model import DeviceModel
from ocpp_station.blocks.transactions import config

EVSES = {1: [1], 2: [1]}


def model(seed: dict[str, object] | None = None) -> DeviceModel:
    return DeviceModel.open(sqlite3.connect(":memory:", isolation_level=None), EVSES, seed or {})


class Spy:
    """Records what is read of a device model."""

    def __init__(self, dm: DeviceModel) -> None:
        self.dm = dm
        self.read: set[tuple[str, str]] = set()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.dm, name)

        def read(component: str, variable: str, *args: Any, **kwargs: Any) -> Any:
            assert not {"evse", "connector", "component_instance", "variable_instance"} & set(
                kwargs
            )
            self.read.add((component, variable))
            return method(component, variable, *args, **kwargs)

        return read


def test_the_config_is_made_of_exactly_the_values_it_is_known_by() -> None:
    spy = Spy(model())
    config._make_tx_config(spy)  # type: ignore[arg-type]
    assert spy.read == set(config._READS)


def test_the_same_values_give_the_same_config_and_others_another() -> None:
    one, two = config.read_tx_config(model()), config.read_tx_config(model())
    assert one is two
    other = config.read_tx_config(model({"SampledDataCtrlr.TxUpdatedInterval": 15}))
    assert other is not one and other.tx_updated_interval == 15.0
    changed = model()
    assert changed.set("TxCtrlr", "EVConnectionTimeOut", 90) == "Accepted"
    assert config.read_tx_config(changed).ev_connection_timeout == 90.0
