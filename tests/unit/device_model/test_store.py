"""Device model persistence: SQLite store, seeding, definition merges, fleet-scale opening."""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import time
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from device_model import DeviceModel, DeviceModelConfigError, load_definitions

EVSES = {1: [1], 2: [1, 2]}


def _copy_definitions(dest: Path) -> Path:
    shutil.copytree(Path(str(resources.files("device_model.definitions"))), dest)
    return dest


def test_change_survives_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "dm.db"
    dm = DeviceModel.open(path, EVSES)
    assert dm.set("OCPPCommCtrlr", "HeartbeatInterval", 42) == "Accepted"
    dm.set_variables(
        [
            {
                "component": {"name": "TxCtrlr"},
                "variable": {"name": "TxStopPoint"},
                "attributeValue": "Authorized",
            }
        ]
    )
    dm.set("EVSE", "AvailabilityState", "Faulted", evse=1)  # non-persistent runtime state
    dm.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    dm = DeviceModel.open(path, EVSES)
    try:
        assert dm.get_int("OCPPCommCtrlr", "HeartbeatInterval") == 42
        assert dm.get("TxCtrlr", "TxStopPoint") == "Authorized"
        assert dm.get("EVSE", "AvailabilityState", evse=1) == "Available"  # reset at open
    finally:
        dm.close()


def test_seed_applies_on_first_start_only(tmp_path: Path) -> None:
    path = tmp_path / "dm.db"
    seed: dict[str, object] = {
        "OCPPCommCtrlr.HeartbeatInterval": 120,
        "OCPPCommCtrlr.MessageTimeout[Default]": 45,
        "SampledDataCtrlr.TxUpdatedMeasurands": ["Energy.Active.Import.Register", "Voltage"],
        "AuthCtrlr.LocalPreAuthorize": True,
        "SmartChargingCtrlr.LimitChangeSignificance": 2.5,
        "EVSE[2].Power": 11000,
        "Connector[2,2].ConnectorType": "cCCS2",
        "ChargingStation.Model": "Wallbox-X",
    }
    dm = DeviceModel.open(path, EVSES, seed)
    assert dm.get_int("OCPPCommCtrlr", "HeartbeatInterval") == 120
    assert dm.get_int("OCPPCommCtrlr", "MessageTimeout", variable_instance="Default") == 45
    assert dm.get_list("SampledDataCtrlr", "TxUpdatedMeasurands") == [
        "Energy.Active.Import.Register",
        "Voltage",
    ]
    assert dm.get_bool("AuthCtrlr", "LocalPreAuthorize") is True
    assert dm.get("SmartChargingCtrlr", "LimitChangeSignificance") == "2.5"
    assert dm.get("EVSE", "Power", evse=2) == "11000"
    assert dm.get("EVSE", "Power", evse=1) == "0"
    assert dm.get("Connector", "ConnectorType", evse=2, connector=2) == "cCCS2"
    assert dm.get("Connector", "ConnectorType", evse=2, connector=1) == "sType2"
    dm.set("OCPPCommCtrlr", "HeartbeatInterval", 999)
    dm.close()

    changed_seed = dict(
        seed, **{"OCPPCommCtrlr.HeartbeatInterval": 5, "ChargingStation.Model": "X2"}
    )
    dm = DeviceModel.open(path, EVSES, changed_seed)
    try:
        assert dm.get_int("OCPPCommCtrlr", "HeartbeatInterval") == 999  # stored value wins
        assert dm.get("ChargingStation", "Model") == "X2"  # constants follow the config
    finally:
        dm.close()


def test_seed_fills_a_persistent_value_that_was_never_set(tmp_path: Path) -> None:
    path = tmp_path / "dm.db"
    DeviceModel.open(path, EVSES).close()
    dm = DeviceModel.open(path, EVSES, {"SecurityCtrlr.BasicAuthPassword": "A" * 16})
    try:
        assert dm.get("SecurityCtrlr", "BasicAuthPassword") == "A" * 16
    finally:
        dm.close()


def test_evse_wide_seed_without_index(tmp_path: Path) -> None:
    dm = DeviceModel.open(tmp_path / "dm.db", EVSES, {"Connector.ConnectorType": "sType2"})
    try:
        types = [
            dm.get("Connector", "ConnectorType", evse=e, connector=c)
            for e, c in [(1, 1), (2, 1), (2, 2)]
        ]
        assert types == ["sType2"] * 3
    finally:
        dm.close()


def test_all_seed_errors_reported_at_once(tmp_path: Path) -> None:
    seed: dict[Any, object] = {
        "NoSuchCtrlr.Enabled": True,
        "OCPPCommCtrlr.NoSuchVariable": 1,
        "OCPPCommCtrlr.HeartbeatInterval": "often",
        "OCPPCommCtrlr.ResetRetries": 99,
        "AuthCacheCtrlr.Policy": "CUSTOM",
        "AuthCtrlr.Enabled": {"yes": True},
        "EVSE[7].Power": 1000,
        "Connector[1,5].ConnectorType": "cCCS2",
        "OCPPCommCtrlr[1].HeartbeatInterval": 10,
        "HeartbeatInterval": 10,
        "AuthCtrlr.LocalPreAuthorize": False,  # fine
    }
    with pytest.raises(DeviceModelConfigError) as info:
        DeviceModel.open(tmp_path / "dm.db", EVSES, seed)
    errors = info.value.errors
    assert len(errors) == 10
    text = str(info.value)
    for needle in [
        "unknown component 'NoSuchCtrlr'",
        "no variable 'NoSuchVariable'",
        "'often' is not an integer",
        "above maxLimit 10",
        "CUSTOM not in valuesList LRU,LFU,FIFO",
        "wrong type for boolean",
        "EVSE 7 is not configured",
        "connector 5 is not configured on EVSE 1",
        "station-level component",
        "not of the form",
    ]:
        assert needle in text, needle
    assert text.count("\n  - ") == 10  # one line per problem
    assert not (tmp_path / "dm.db").exists()  # nothing written on a bad config


def test_bad_evse_layout_is_reported_with_seed_errors(tmp_path: Path) -> None:
    with pytest.raises(DeviceModelConfigError) as info:
        DeviceModel.open(tmp_path / "dm.db", {0: [1], 2: [], 3: [1, 1]}, {"Nope.X": 1})
    assert len(info.value.errors) == 4


def test_new_definition_merged_without_losing_values(tmp_path: Path) -> None:
    old_defs = _copy_definitions(tmp_path / "v1")
    path = tmp_path / "dm.db"
    dm = DeviceModel.open(path, EVSES, definitions=old_defs)
    dm.set("OCPPCommCtrlr", "HeartbeatInterval", 77)
    dm.set("TxCtrlr", "TxStopPoint", "Authorized")
    dm.close()

    new_defs = _copy_definitions(tmp_path / "v2")
    comm_file = new_defs / "ocpp_comm_ctrlr.json"
    comm = json.loads(comm_file.read_text())
    comm["variables"].append(
        {
            "name": "MessageAttempts",
            "instance": "Default",
            "characteristics": {"dataType": "integer", "minLimit": 1},
            "attributes": [{"type": "Actual", "mutability": "ReadWrite", "default": "5"}],
        }
    )
    comm_file.write_text(json.dumps(comm))
    (new_defs / "tx_ctrlr.json").unlink()  # a component removed in the new release

    seed = {"OCPPCommCtrlr.MessageAttempts[Default]": 4, "OCPPCommCtrlr.HeartbeatInterval": 1}
    dm = DeviceModel.open(path, EVSES, seed, definitions=new_defs)
    try:
        assert dm.get_int("OCPPCommCtrlr", "HeartbeatInterval") == 77  # kept
        assert dm.get_int("OCPPCommCtrlr", "MessageAttempts", variable_instance="Default") == 4
        assert dm.get("TxCtrlr", "TxStopPoint") is None  # removed definitions are ignored
    finally:
        dm.close()

    dm = DeviceModel.open(path, EVSES, definitions=old_defs)  # ... and kept in the file
    try:
        assert dm.get("TxCtrlr", "TxStopPoint") == "Authorized"
    finally:
        dm.close()


def test_stored_value_invalid_under_new_limits_falls_back(tmp_path: Path) -> None:
    old_defs = _copy_definitions(tmp_path / "v1")
    path = tmp_path / "dm.db"
    dm = DeviceModel.open(path, EVSES, definitions=old_defs)
    dm.set("OCPPCommCtrlr", "HeartbeatInterval", 9000)
    dm.close()
    new_defs = _copy_definitions(tmp_path / "v2")
    comm_file = new_defs / "ocpp_comm_ctrlr.json"
    comm = json.loads(comm_file.read_text())
    for var in comm["variables"]:
        if var["name"] == "HeartbeatInterval":
            var["characteristics"]["maxLimit"] = 5000
    comm_file.write_text(json.dumps(comm))
    dm = DeviceModel.open(path, EVSES, definitions=new_defs)
    try:
        assert dm.get_int("OCPPCommCtrlr", "HeartbeatInterval") == 300  # the default again
    finally:
        dm.close()


def test_definition_errors_are_all_reported(tmp_path: Path) -> None:
    defs = tmp_path / "bad"
    defs.mkdir()
    (defs / "a.json").write_text(
        json.dumps(
            {
                "name": "A",
                "scope": "station",
                "variables": [
                    {
                        "name": "Level",
                        "characteristics": {"dataType": "integer", "maxLimit": 3},
                        "attributes": [
                            {"type": "Actual", "mutability": "ReadWrite", "default": "4"}
                        ],
                    },
                    {
                        "name": "Mode",
                        "characteristics": {"dataType": "OptionList"},
                        "attributes": [{"type": "Actual", "mutability": "ReadWrite"}],
                    },
                ],
            }
        )
    )
    (defs / "b.json").write_text(json.dumps({"name": "B", "scope": "planet", "variables": []}))
    with pytest.raises(DeviceModelConfigError) as info:
        DeviceModel.open(tmp_path / "dm.db", EVSES, definitions=defs)
    text = str(info.value)
    assert "default '4'" in text and "needs a valuesList" in text and "b.json" in text


def test_fleet_scale_open_is_fast_and_shares_definitions(tmp_path: Path) -> None:
    load_definitions()  # parsed once per process, outside the timing
    start = time.perf_counter()
    models = [DeviceModel.open(tmp_path / f"cs{i}.db", {1: [1], 2: [1]}) for i in range(20)]
    per_station = (time.perf_counter() - start) / len(models)
    try:
        assert per_station < 0.05  # fresh database, < 50 ms each
        assert all(m.definitions is models[0].definitions for m in models)
        # per-station state: values keyed by small int tuples, no copy of the definitions
        values = models[0]._values
        assert all(isinstance(k, tuple) and all(isinstance(x, int) for x in k) for k in values)
        assert len(values) <= sum(len(v.attributes) * 3 for v in models[0].definitions.variables)
    finally:
        for m in models:
            m.close()


def test_a_seed_checked_again_gives_the_same_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The keys' addresses are worked out once per definitions and layout (a fleet checks the
    same keys for every station); the values are checked every time."""
    from device_model.seed import parse_seed

    defs = load_definitions()
    seed: dict[str, object] = {
        "OCPPCommCtrlr.HeartbeatInterval": 120,
        "EVSE.Power": 1000,
        "NoSuchCtrlr.Enabled": True,
        "ClockCtrlr.TimeOffset": "1",  # retired: skipped with a warning, each time
    }
    with caplog.at_level(logging.WARNING, logger="device_model.seed"):
        first = parse_seed(defs, EVSES, seed)
        second = parse_seed(defs, EVSES, seed)
    assert first == second
    assert len(first[1]) == 1 and "unknown component 'NoSuchCtrlr'" in first[1][0]
    assert sum("no longer" in r.getMessage() for r in caplog.records) == 2
    # the same keys with other values: checked anew
    _values, errors = parse_seed(defs, EVSES, {**seed, "OCPPCommCtrlr.HeartbeatInterval": "x"})
    assert any("'x' is not an integer" in e for e in errors)
    other = parse_seed(defs, EVSES, {"OCPPCommCtrlr.HeartbeatInterval": 60})[0]
    assert list(other.values()) == ["60"]
