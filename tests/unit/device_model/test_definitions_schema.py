"""The packaged definitions are checked against their JSON Schema here, not at every start
(device_model/definitions_loader.py); the files of a directory are still checked at load."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from device_model import load_definitions
from device_model.definitions_loader import DefinitionError, definitions_schema


def _packaged() -> list[tuple[str, object]]:
    root = resources.files("device_model.definitions")
    return sorted(
        (p.name, json.loads(p.read_text(encoding="utf-8")))
        for p in root.iterdir()
        if p.name.endswith(".json")
    )


def test_every_packaged_definitions_file_matches_the_schema() -> None:
    validator = jsonschema.Draft7Validator(definitions_schema())
    files = _packaged()
    assert len(files) > 10
    problems = [
        f"{name}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
        for name, data in files
        for e in validator.iter_errors(data)
    ]
    assert problems == []


def test_a_directory_is_validated_against_the_schema(tmp_path: Path) -> None:
    bad = {"name": "Broken", "scope": "station", "variables": [{"name": "X"}]}
    (tmp_path / "broken.json").write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_definitions(tmp_path)
    assert any(e.startswith("broken.json: variables/0: ") for e in caught.value.errors)
