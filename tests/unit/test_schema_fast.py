"""The compiled schema check (ocpp_station/schema_fast.py) beyond the OCPP schemas: the keywords
the project's own schemas use.  A "yes" must never be wrong (nothing behind it asks jsonschema);
a "no" may be (jsonschema then decides), so each case is compared with jsonschema."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from support import offline_station_toml, run_python

from ocpp_station.config import load_schema
from ocpp_station.schema_fast import UnsupportedSchema, compile_fast

CASES: list[tuple[dict[str, Any], list[Any]]] = [
    ({"type": "string", "pattern": "^[a-z]+$"}, ["abc", "aBc", "", 3]),
    ({"type": "string", "pattern": "b"}, ["abc", "xyz"]),  # unanchored, as jsonschema's search
    ({"type": "number", "exclusiveMinimum": 0}, [0, 0.0, 1e-9, -1, 5, True, "1"]),
    ({"type": "number", "exclusiveMaximum": 10}, [10, 9.99, 11, False]),
    ({"type": "array", "uniqueItems": True}, [[], [1, 2], [1, 1], [1, True], [1, 1.0], ["a"]]),
    ({"type": "array", "uniqueItems": True}, [[{"a": 1}, {"a": 1}], [[1], [2]], [[1], [1]]]),
    ({"type": ["string", "null"]}, ["x", None, 1, False]),
    ({"enum": [0, 1, 2]}, [0, 1, 2, 3, True, False, 1.0, "1", None]),
    (
        {"type": "object", "additionalProperties": {"type": ["string", "integer"]}},
        [{}, {"a": "x", "b": 2}, {"a": 1.5}, {"a": [1]}, {"a": True}],
    ),
    (
        {
            "type": "object",
            "properties": {"p": {"type": "integer"}},
            "additionalProperties": {"type": "string"},
        },
        [{"p": 1, "q": "x"}, {"p": "x"}, {"q": 1}],
    ),
]


@pytest.mark.parametrize(("schema", "values"), CASES)
def test_agrees_with_jsonschema(schema: dict[str, Any], values: list[Any]) -> None:
    check = compile_fast(schema)
    reference = jsonschema.Draft7Validator(schema)
    for value in values:
        if check(value):
            assert reference.is_valid(value), (schema, value)
        # a "no" is only a hint; where the two agree exactly, say so
        elif not isinstance(value, list) or schema.get("uniqueItems") is not True:
            assert not reference.is_valid(value), (schema, value)


def test_unique_items_sends_doubt_to_jsonschema() -> None:
    # [1, true]: equal for Python, distinct for JSON Schema: the fast check says no, jsonschema yes
    schema = {"type": "array", "uniqueItems": True}
    assert not compile_fast(schema)([1, True])
    assert jsonschema.Draft7Validator(schema).is_valid([1, True])


@pytest.mark.parametrize(
    "schema",
    [{"enum": [True, 1]}, {"minimum": True}, {"type": "strange"}, {"type": []}, {"not": {}}],
)
def test_what_it_cannot_compile_it_says(schema: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedSchema):
        compile_fast(schema)


@pytest.mark.parametrize(
    "name",
    ["station_config.schema.json", "monitors.schema.json", "device_model_definitions.schema.json"],
)
def test_the_projects_schemas_compile(name: str) -> None:
    compile_fast(load_schema(name))


def test_building_a_station_does_not_import_jsonschema(tmp_path: Any) -> None:
    # The start-up path (config, device model, every block, the RPC layer, the control API
    # module) leaves jsonschema to the first invalid input (docs/performance.md, start-up).
    config = offline_station_toml(tmp_path)
    code = (
        "import sys\n"
        "from ocpp_station.cli import _parser\n"
        "from ocpp_station.config import load_config\n"
        "from ocpp_station import Station\n"
        "import ocpp_station.runtime\n"
        "import asyncio\n"
        "async def main():\n"
        f"    station = Station(load_config({str(config)!r}))\n"
        "    await station.start()\n"  # stores, device model, blocks; the CSMS is unreachable
        "    await station.stop()\n"
        "asyncio.run(main())\n"
        "assert 'jsonschema' not in sys.modules, 'jsonschema imported at start-up'\n"
        "print('ok')\n"
    )
    assert run_python(code).strip() == "ok"
    assert (tmp_path / "data" / "station.db").exists()  # it did start: its store is there
