"""Upgrading past the variables issue 14 retired or made ReadOnly: a data directory and a
``[device_model]`` table written for the earlier definitions still open, and the values that
claimed behaviour the station lacks no longer apply."""

from __future__ import annotations

import json
import logging
import shutil
from importlib import resources
from pathlib import Path

import pytest

from device_model import DeviceModel
from device_model.seed import RETIRED
from ocpp_station.blocks.security.events import time_adjustment_reported

EVSES = {1: [1]}


def _earlier_definitions(folder: Path) -> Path:
    """The packaged definitions as the release before had them, in the parts that matter here:
    ClockCtrlr.TimeZone ReadWrite, OCPPCommCtrlr.ResetRetries ReadWrite and persistent."""
    shutil.copytree(Path(str(resources.files("device_model.definitions"))), folder)
    clock_file = folder / "clock_ctrlr.json"
    clock = json.loads(clock_file.read_text())
    clock["variables"].append(
        {
            "name": "TimeZone",
            "required": False,
            "description": "Local time zone for display.",
            "characteristics": {"dataType": "string", "maxLimit": 64, "supportsMonitoring": False},
            "attributes": [
                {
                    "type": "Actual",
                    "mutability": "ReadWrite",
                    "persistent": True,
                    "constant": False,
                    "default": None,
                }
            ],
        }
    )
    clock_file.write_text(json.dumps(clock))
    comm_file = folder / "ocpp_comm_ctrlr.json"
    comm = json.loads(comm_file.read_text())
    for var in comm["variables"]:
        if var["name"] == "ResetRetries":
            var["attributes"][0].update(mutability="ReadWrite", constant=False, default="2")
    comm_file.write_text(json.dumps(comm))
    return folder


def test_stored_values_of_retired_or_read_only_variables_do_not_apply(tmp_path: Path) -> None:
    path = tmp_path / "dm.db"
    old = DeviceModel.open(path, EVSES, definitions=_earlier_definitions(tmp_path / "v1"))
    assert old.set("ClockCtrlr", "TimeZone", "Europe/Oslo") == "Accepted"
    assert old.set("OCPPCommCtrlr", "ResetRetries", 5) == "Accepted"
    old.close()
    dm = DeviceModel.open(path, EVSES)  # the packaged definitions of this release
    try:
        assert dm.get("ClockCtrlr", "TimeZone") is None  # no longer in the device model
        assert dm.get("OCPPCommCtrlr", "ResetRetries") == "0"  # constant: the definition's
        assert dm.set("OCPPCommCtrlr", "ResetRetries", 3) == "Rejected"  # config only
    finally:
        dm.close()


def test_a_seed_of_a_retired_variable_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seed = {f"{component}.{variable}": "1" for component, variable in sorted(RETIRED)}
    seed["OCPPCommCtrlr.HeartbeatInterval"] = "120"
    with caplog.at_level(logging.WARNING, logger="device_model.seed"):
        dm = DeviceModel.open(tmp_path / "dm.db", EVSES, seed)
    try:
        assert dm.get_int("OCPPCommCtrlr", "HeartbeatInterval") == 120
        assert dm.get("ClockCtrlr", "TimeOffset") is None
    finally:
        dm.close()
    warned = [r.getMessage() for r in caplog.records if "no longer" in r.getMessage()]
    assert len(warned) == len(RETIRED)


def test_an_unknown_variable_in_the_seed_still_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="NoSuchVariable"):
        DeviceModel.open(tmp_path / "dm.db", EVSES, {"ClockCtrlr.NoSuchVariable": "1"})


@pytest.mark.parametrize(
    ("adjustment", "threshold", "reported"),
    [(21.0, 20, True), (-21.0, 20, True), (20.0, 20, False), (0.001, 0, True), (0.0, 0, False)],
)
def test_time_adjustment_reported(adjustment: float, threshold: float, reported: bool) -> None:
    """ClockCtrlr.TimeAdjustmentReportingThreshold: larger adjustments, either way, count."""
    assert time_adjustment_reported(adjustment, threshold) is reported
