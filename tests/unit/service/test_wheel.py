"""The wheel a board installs (``pip install ocpp_station-*.whl``) holds every package and data
file the program reads at run time, and the ``ocpp-station`` entry point."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def test_every_package_is_in_the_wheel() -> None:
    listed = set(SETUPTOOLS["packages"])
    for top in ("ocpp_station", "hal", "device_model"):
        for init in (ROOT / top).rglob("__init__.py"):
            name = ".".join(init.parent.relative_to(ROOT).parts)
            assert name in listed, f"{name} is missing from [tool.setuptools] packages"


def test_data_files_read_at_run_time_are_in_the_wheel() -> None:
    data = SETUPTOOLS["package-data"]
    for page in (ROOT / "ocpp_station" / "http" / "static").iterdir():
        relative = page.relative_to(ROOT / "ocpp_station" / "http").as_posix()
        assert any(fnmatch.fnmatch(relative, p) for p in data["ocpp_station.http"]), relative
    assert SETUPTOOLS["package-dir"]["ocpp_station.schemas"] == "schemas"
    assert data["ocpp_station.schemas"] == ["*.json"]


def test_entry_point_and_python() -> None:
    assert PYPROJECT["project"]["scripts"]["ocpp-station"] == "ocpp_station.cli:main"
    assert PYPROJECT["project"]["requires-python"] == ">=3.11"
