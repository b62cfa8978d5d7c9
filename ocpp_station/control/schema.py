"""The control API's JSON schema (``schemas/control_api.schema.json``, installed as
``ocpp_station.schemas``): params checked before a method runs, results and publications
checkable by tests and tools."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import TYPE_CHECKING, Any

from ocpp_station.control.server import ControlError
from ocpp_station.schema_fast import check_date_time

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, FormatChecker

SCHEMA_FILE = "control_api.schema.json"


@functools.cache
def control_schema() -> dict[str, Any]:
    """``schemas/control_api.schema.json`` (installed as ``ocpp_station.schemas``)."""
    text = resources.files("ocpp_station.schemas").joinpath(SCHEMA_FILE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


# jsonschema is loaded with the first control call, not when a station starts: a station
# without a control client never pays its import (~40 ms, ~4 MiB).


@functools.cache
def _formats() -> FormatChecker:
    # Formats are checked, not only annotated: jsonschema's own date-time check needs an optional
    # package and silently passes without it; a security_event with a bad timestamp must not
    # reach the queue (where it could never be sent).
    from jsonschema import FormatChecker  # lazy: see above

    checker = FormatChecker(formats=())
    checker.checks("date-time")(check_date_time)
    return checker


@functools.cache
def _validator(pointer: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator  # lazy: see above
    from referencing import Registry, Resource  # lazy: see above

    root = control_schema()
    registry: Registry[Any] = Registry().with_resource(root["$id"], Resource.from_contents(root))
    return Draft202012Validator(
        {"$ref": f"{root['$id']}#{pointer}"},
        registry=registry,
        format_checker=_formats(),
    )


def _where(path: Any) -> str:
    out = "params"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def check_params(method: str, params: dict[str, Any]) -> None:
    """Validate ``params`` against ``methods.<method>.params`` of the control-API schema; a
    ControlError ``InvalidParams`` names the first offending field.  Methods the schema does not
    describe are not checked here."""
    if method not in control_schema()["methods"]:
        return
    errors = list(_validator(f"/methods/{method}/params").iter_errors(params))
    if not errors:
        return
    from jsonschema.exceptions import best_match  # lazy: see above

    error = best_match(errors)
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    raise ControlError(
        "InvalidParams", f"{method}: {_where(error.absolute_path)}: {error.message}{more}"
    )


def validate_result(method: str, result: Any) -> list[str]:
    """Problems of a method's result against the schema (empty if it conforms); for tests and
    for tools that want to check a reply."""
    validator = _validator(f"/methods/{method}/result")
    return [f"{_where(e.absolute_path)}: {e.message}" for e in validator.iter_errors(result)]


def validate_publication(topic: str, data: Any) -> list[str]:
    """Problems of a publication's data against ``topics.<topic>`` (empty if it conforms)."""
    validator = _validator(f"/topics/{topic}")
    return [f"{_where(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
