"""The station's device model: OCPP 2.0.1 components, variables and attributes in SQLite.

The single source of configuration truth: every configurable behaviour reads its variable here.

    dm = DeviceModel.open("var/CS001/device_model.db", {1: [1]},
                          seed={"OCPPCommCtrlr.HeartbeatInterval": 300})
    dm.get_int("OCPPCommCtrlr", "HeartbeatInterval")          # 300
    dm.set_variables([...])                                   # OCPP SetVariables (B05)

Definitions (``device_model/definitions/*.json``, schema
``schemas/device_model_definitions.schema.json``) are parsed once per process and shared; each
station keeps only its values in memory.  Persistent attributes live in the SQLite file (WAL);
non-persistent ones (runtime states) reset to their default at every open.
"""

from device_model.definitions_loader import (
    AttributeDef,
    DefinitionError,
    Definitions,
    VariableDef,
    load_definitions,
)
from device_model.model import DeviceModel, DeviceModelConfigError, VariableChange
from device_model.ocpp_io import MalformedRequest

__all__ = [
    "AttributeDef",
    "DefinitionError",
    "Definitions",
    "DeviceModel",
    "DeviceModelConfigError",
    "MalformedRequest",
    "VariableChange",
    "VariableDef",
    "load_definitions",
]
