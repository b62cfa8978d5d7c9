"""The public surface: what an embedding application imports resolves, ships typed, and the
examples use nothing else."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("package", ["ocpp_station", "hal", "device_model"])
def test_every_exported_name_resolves_and_the_package_is_typed(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__all__
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    assert (ROOT / package / "py.typed").is_file()


def test_the_station_api_names() -> None:
    import hal
    import ocpp_station

    assert {"Station", "StationConfig", "load_config", "ManualClock", "TOPICS"} <= set(
        ocpp_station.__all__
    )
    assert {"open", "register", "ChargeController", "PlugChanged", "HalError"} <= set(hal.__all__)


def test_examples_use_only_the_public_api() -> None:
    ours = ("ocpp_station", "hal", "device_model")
    private = []
    for path in sorted((ROOT / "examples").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ours:
                if node.module not in ours:
                    private.append(f"{path.name}: from {node.module} import ...")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in ours and alias.name not in ours:
                        private.append(f"{path.name}: import {alias.name}")
    assert private == []
