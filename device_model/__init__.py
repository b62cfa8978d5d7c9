"""The station's device model: OCPP 2.0.1 components, variables and attributes in SQLite.

The single source of configuration truth: every configurable behaviour reads its variable here.

    dm = DeviceModel.open("var/CS001/device_model.db", {1: [1]},
                          seed={"OCPPCommCtrlr.HeartbeatInterval": 300})
    dm.get_int("OCPPCommCtrlr", "HeartbeatInterval")          # 300
    dm.set_variables([...])                                   # OCPP SetVariables (B05)

``DeviceModel.open`` takes the path of a SQLite file of its own, or an open ``sqlite3.Connection``
(``isolation_level=None``) of a database shared with other tables, which it borrows and never
closes.  ``DeviceModel.plan`` checks a station's config and works out what a new database of it
holds (:class:`Plan`, no I/O); ``DeviceModel.open_plan`` opens with it, also on a database copied
from an image that holds another station's rows of the same layout (``store.fill_image``).

Definitions (the packaged ``device_model.definitions`` JSON files, described by the JSON Schema
``device_model_definitions.schema.json`` installed with the ``ocpp_station.schemas`` resources)
are parsed once per process and shared; each station keeps only its values in memory.
Persistent attributes live in the database; non-persistent ones (runtime states) reset to their
default at every open.

This package imports nothing from the station: time comes in through any object with ``time()``
(:class:`Clock`).
"""

from device_model.clock import Clock
from device_model.definitions_loader import (
    AttributeDef,
    DefinitionError,
    Definitions,
    VariableDef,
    load_definitions,
)
from device_model.model import DeviceModel, DeviceModelConfigError, Plan
from device_model.ocpp_io import MalformedRequest
from device_model.report import BASES as REPORT_BASES
from device_model.report import CRITERIA as REPORT_CRITERIA
from device_model.station_values import VariableChange, Where
from device_model.values import InvalidValue

__all__ = [
    "REPORT_BASES",
    "REPORT_CRITERIA",
    "AttributeDef",
    "Clock",
    "DefinitionError",
    "Definitions",
    "DeviceModel",
    "DeviceModelConfigError",
    "InvalidValue",
    "MalformedRequest",
    "Plan",
    "VariableChange",
    "VariableDef",
    "Where",
    "load_definitions",
]
