"""The compiled fast path of schema validation (pure): a JSON schema as a predicate.

jsonschema's ``is_valid`` costs ~60-200 us per OCPP message.  The OCPP 2.0.1 schemas use only a
handful of draft-06 keywords, so :func:`compile_fast` turns a schema once into nested closures that
answer "valid?" much faster.  Only a "no" goes on to jsonschema, which stays the authority: it finds
and describes the errors (and overrules the fast path should they ever disagree).  A schema using a
keyword the compiler does not know raises :class:`UnsupportedSchema` and is checked by jsonschema
alone.  A "yes" never needs jsonschema, so a process whose inputs are valid never imports it
(the RPC layer's validators, the station config and the predefined monitors use this module).

Every check is at least as strict as jsonschema's (draft 6/7): where the two could differ the
predicate answers "no" and jsonschema decides (``uniqueItems`` compares with Python's ``==``,
which also calls ``1`` and ``true`` equal).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

# RFC 3339 date-time, as OCPP's dateTime is specified (Part 2, section 2.1.3).
_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z", re.ASCII
)


def check_date_time(value: object) -> bool:
    """The ``date-time`` format: RFC 3339 with a real calendar date and time of day."""
    if not isinstance(value, str):
        return True  # not a string: the "type" keyword reports it
    if _DATE_TIME.match(value) is None:
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:  # e.g. month 13, 25 o'clock
        return False
    return True


Check = Callable[[Any], bool]  # "is this value valid?"

_ANNOTATIONS = frozenset(
    {"$schema", "$id", "comment", "$comment", "description", "javaType", "default", "title"}
)


class UnsupportedSchema(Exception):
    """The schema uses a keyword (or a form of one) that :func:`compile_fast` does not compile."""


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _is_integer(x: Any) -> bool:
    if isinstance(x, bool):
        return False
    return isinstance(x, int) or (isinstance(x, float) and x.is_integer())


_TYPES: dict[str, Check] = {
    "string": lambda x: isinstance(x, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda x: isinstance(x, bool),
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "null": lambda x: x is None,
}


def compile_fast(schema: dict[str, Any]) -> Check:
    """Compile a draft-06 OCPP schema into a predicate; raise ``UnsupportedSchema`` if it cannot."""
    definitions: dict[str, Any] = schema.get("definitions", {})
    compiled: dict[str, Check] = {}

    def ref(target: str) -> Check:
        name = target.removeprefix("#/definitions/")
        if name == target or name not in definitions:
            raise UnsupportedSchema(target)
        if name not in compiled:
            cell: list[Check] = []
            compiled[name] = lambda x: cell[0](x)  # forward reference for recursive schemas
            cell.append(node(definitions[name]))
            compiled[name] = cell[0]
        return compiled[name]

    def node(sub: dict[str, Any]) -> Check:
        if "$ref" in sub:
            return ref(sub["$ref"])
        checks: list[Check] = []
        props: dict[str, Check] | None = None
        extra: Check | None = None  # the schema of properties not named in "properties"
        closed = False
        required: tuple[str, ...] = ()
        for key, value in sub.items():
            if key in _ANNOTATIONS or key == "definitions":
                continue
            if key == "type":
                checks.append(_type(value))
            elif key == "properties":
                props = {name: node(s) for name, s in value.items()}
            elif key == "additionalProperties":
                if isinstance(value, dict):
                    extra = node(value)
                elif value is False or value is True:
                    closed = value is False
                else:
                    raise UnsupportedSchema("additionalProperties")
            elif key == "required":
                required = tuple(value)
            elif key == "enum":
                if all(isinstance(v, str) for v in value):
                    checks.append(_enum(frozenset(value)))
                elif all(isinstance(v, str | int) and not isinstance(v, bool) for v in value):
                    checks.append(_scalar_enum(frozenset(value)))
                else:
                    raise UnsupportedSchema("enum of other than strings and integers")
            elif key == "format":
                if value == "date-time":
                    checks.append(check_date_time)
            elif key in ("maxLength", "minLength"):
                checks.append(_length(key, value))
            elif key in ("maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum"):
                if not _is_number(value):  # draft-04's boolean form
                    raise UnsupportedSchema(f"{key} {value!r}")
                checks.append(_bound(key, value))
            elif key == "pattern":
                checks.append(_pattern(re.compile(value)))
            elif key == "uniqueItems":
                if value is True:
                    checks.append(_unique)
            elif key in ("maxItems", "minItems"):
                checks.append(_count(key, value))
            elif key == "items":
                if not isinstance(value, dict):
                    raise UnsupportedSchema("tuple items")
                checks.append(_each(node(value)))
            elif key == "additionalItems":
                continue  # ignored when "items" is a single schema (the only form OCPP uses)
            else:
                raise UnsupportedSchema(key)
        if props is not None or closed or required or extra is not None:
            checks.append(_object(props or {}, closed, required, extra))
        return _all(checks)

    return node(schema)


def _all(checks: list[Check]) -> Check:
    if not checks:
        return lambda x: True
    if len(checks) == 1:
        return checks[0]

    def check(x: Any) -> bool:
        for c in checks:
            if not c(x):
                return False
        return True

    return check


def _type(value: Any) -> Check:
    if isinstance(value, str) and value in _TYPES:
        return _TYPES[value]
    if isinstance(value, list) and value and all(t in _TYPES for t in value):
        options = [_TYPES[t] for t in value]
        return lambda x: any(is_type(x) for is_type in options)
    raise UnsupportedSchema(f"type {value!r}")


def _object(
    props: dict[str, Check], closed: bool, required: tuple[str, ...], extra: Check | None = None
) -> Check:
    def check(x: Any) -> bool:
        if not isinstance(x, dict):
            return True
        for key, value in x.items():
            sub = props.get(key)
            if sub is None:
                if closed or (extra is not None and not extra(value)):
                    return False
            elif not sub(value):
                return False
        for key in required:
            if key not in x:
                return False
        return True

    return check


def _each(item: Check) -> Check:
    def check(x: Any) -> bool:
        if not isinstance(x, list):
            return True
        for value in x:
            if not item(value):
                return False
        return True

    return check


def _enum(allowed: frozenset[str]) -> Check:
    return lambda x: isinstance(x, str) and x in allowed


def _scalar_enum(allowed: frozenset[str | int]) -> Check:
    # jsonschema tells true from 1 but not 1.0 from 1; Python's ``in`` would let true pass
    return lambda x: isinstance(x, str | int | float) and not isinstance(x, bool) and x in allowed


def _length(key: str, limit: int) -> Check:
    if key == "maxLength":
        return lambda x: not isinstance(x, str) or len(x) <= limit
    return lambda x: not isinstance(x, str) or len(x) >= limit


def _count(key: str, limit: int) -> Check:
    if key == "maxItems":
        return lambda x: not isinstance(x, list) or len(x) <= limit
    return lambda x: not isinstance(x, list) or len(x) >= limit


def _bound(key: str, limit: float) -> Check:
    if key == "maximum":
        return lambda x: not _is_number(x) or x <= limit
    if key == "exclusiveMaximum":
        return lambda x: not _is_number(x) or x < limit
    if key == "exclusiveMinimum":
        return lambda x: not _is_number(x) or x > limit
    return lambda x: not _is_number(x) or x >= limit


def _pattern(regex: re.Pattern[str]) -> Check:
    # JSON Schema patterns are unanchored (jsonschema uses re.search too)
    return lambda x: not isinstance(x, str) or regex.search(x) is not None


def _unique(x: Any) -> bool:
    if not isinstance(x, list):
        return True
    for i, first in enumerate(x):
        for second in x[i + 1 :]:
            if first == second:
                return False
    return True
