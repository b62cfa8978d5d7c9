"""Fleet configs (issue 8): each station of a fleet gets its own identity and data folder from
one template; a bad count or template is named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support import PASSWORD, station_config

from ocpp_station.config import StationConfig, config_from_dict
from ocpp_station.fleet import Fleet
from ocpp_station.fleet_config import FleetError, fleet_configs, station_id


def template(url: str, data_dir: Path, **kwargs: Any) -> StationConfig:
    return station_config(url, data_dir, station_id="FL", **kwargs)


def test_configs_give_each_station_its_own_identity_and_data(tmp_path: Path) -> None:
    base = template("ws://127.0.0.1:9/ocpp", tmp_path, control=tmp_path / "c.sock")
    configs = fleet_configs(base, 3)
    assert [c.id for c in configs] == ["FL-0001", "FL-0002", "FL-0003"]
    assert [c.data_dir for c in configs] == [tmp_path / c.id for c in configs]
    assert all(c.control_socket is None for c in configs)  # no sockets in a fleet
    assert all(c.hal_backend == "sim" and c.csms_url == base.csms_url for c in configs)
    assert all(c.password == PASSWORD and c.device_model == base.device_model for c in configs)
    configs[0].device_model["X.Y"] = 1  # copies, not shared with the template
    assert "X.Y" not in base.device_model
    assert station_id("CS", 7, 12345) == "CS-00007"  # wider past 9999


@pytest.mark.parametrize(
    ("count", "fragment"),
    [(0, "between 1 and"), (-3, "between 1 and"), (True, "integer"), ("5", "integer")],
)
def test_bad_count_is_named(tmp_path: Path, count: Any, fragment: str) -> None:
    with pytest.raises(FleetError, match=fragment):
        fleet_configs(template("ws://127.0.0.1:9/ocpp", tmp_path), count)


def test_template_must_be_simulated_and_short_enough(tmp_path: Path) -> None:
    serial = template("ws://127.0.0.1:9/ocpp", tmp_path, hal={"backend": "serial", "port": "/x"})
    with pytest.raises(FleetError, match="backend must be 'sim'"):
        fleet_configs(serial, 2)
    long_id = config_from_dict(
        {
            "station": {
                "id": "X" * 44,
                "csms_url": "ws://127.0.0.1:9/ocpp",
                "password": PASSWORD,
                "data_dir": str(tmp_path),
            },
            "evse": [{"id": 1, "connectors": [1]}],
        }
    )
    with pytest.raises(FleetError, match="longer than 48"):
        fleet_configs(long_id, 2)
    with pytest.raises(FleetError, match="concurrency"):
        Fleet(template("ws://127.0.0.1:9/ocpp", tmp_path), 2, concurrency=0)
