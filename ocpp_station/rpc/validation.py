"""Validation of OCPP 2.0.1 payloads against the official JSON schemas (pure).

The schemas are read from the installed ``ocpp`` package (``ocpp/v201/schemas``), never copied.
A validator is compiled the first time an (action, direction) pair is needed and cached; the
module-level :func:`default_registry` is shared, so many stations in one process share the compiled
validators.  The happy path costs one dict lookup and one call of the predicate compiled by
:mod:`ocpp_station.schema_fast`; jsonschema runs only for invalid payloads, to find and describe
the error.

Schema violations map onto the OCPP-J CALLERROR codes (Part 4 section 4.3):

============================================  =================================
schema keyword                                code
============================================  =================================
``additionalProperties`` (unknown field)      FormatViolation
``type``, ``enum``, ``format`` (date-time)    TypeConstraintViolation
``required``, ``minItems``, ``maxItems``      OccurrenceConstraintViolation
``minimum``, ``maximum``, ``minLength``,      PropertyConstraintViolation
``maxLength``, ``pattern``
anything else                                 FormatViolation
============================================  =================================

When a payload has several problems, the reported one is chosen deterministically: first by the
order of the table above, then the shallowest field, then the field path.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

from ocpp_station.rpc.errors import ErrorCode, OCPPError, SchemaUnavailable
from ocpp_station.schema_fast import Check, UnsupportedSchema, check_date_time, compile_fast

if TYPE_CHECKING:
    import jsonschema
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

Kind = Literal["request", "response"]

_SUFFIX = {"request": "Request", "response": "Response"}

# (rank, code): lower rank wins when a payload has several errors.
_MAPPING: dict[str, tuple[int, ErrorCode]] = {
    "additionalProperties": (0, ErrorCode.FORMAT_VIOLATION),
    "type": (1, ErrorCode.TYPE_CONSTRAINT_VIOLATION),
    "enum": (1, ErrorCode.TYPE_CONSTRAINT_VIOLATION),
    "format": (1, ErrorCode.TYPE_CONSTRAINT_VIOLATION),
    "required": (2, ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION),
    "minItems": (2, ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION),
    "maxItems": (2, ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION),
    "minimum": (3, ErrorCode.PROPERTY_CONSTRAINT_VIOLATION),
    "maximum": (3, ErrorCode.PROPERTY_CONSTRAINT_VIOLATION),
    "exclusiveMinimum": (3, ErrorCode.PROPERTY_CONSTRAINT_VIOLATION),
    "exclusiveMaximum": (3, ErrorCode.PROPERTY_CONSTRAINT_VIOLATION),
    "minLength": (3, ErrorCode.PROPERTY_CONSTRAINT_VIOLATION),
    "maxLength": (3, ErrorCode.PROPERTY_CONSTRAINT_VIOLATION),
    "pattern": (3, ErrorCode.PROPERTY_CONSTRAINT_VIOLATION),
}
_OTHER = (4, ErrorCode.FORMAT_VIOLATION)

ROOT = "$"  # the field path reported for a problem with the payload object itself


@cache
def _format_checker() -> jsonschema.FormatChecker:
    # jsonschema is imported on the first invalid payload only (or for a schema the fast path
    # cannot compile): a station that only sees valid frames never loads it (~40 ms, ~4 MiB).
    import jsonschema  # lazy: see above

    checker = jsonschema.FormatChecker(formats=())
    checker.checks("date-time")(check_date_time)
    return checker


class SchemaRegistry:
    """The OCPP 2.0.1 request and response schemas, with compiled validators cached."""

    def __init__(self) -> None:
        self._dir = resources.files("ocpp") / "v201" / "schemas"
        names = [entry.name for entry in self._dir.iterdir() if entry.name.endswith(".json")]
        self.actions: frozenset[str] = frozenset(
            name.removesuffix("Request.json") for name in names if name.endswith("Request.json")
        )
        self._texts: dict[str, str] = {}  # file name -> schema text, when read ahead
        self._fast: dict[Kind, dict[str, Check]] = {"request": {}, "response": {}}
        self._validators: dict[Kind, dict[str, Validator]] = {"request": {}, "response": {}}
        self._lock = threading.RLock()

    def _schema(self, action: str, kind: Kind) -> dict[str, Any]:
        if action not in self.actions:
            raise OCPPError(ErrorCode.NOT_IMPLEMENTED, f"{action!r} is not an OCPP 2.0.1 action")
        if kind not in _SUFFIX:
            raise ValueError(f"kind must be 'request' or 'response', not {kind!r}")
        name = f"{action}{_SUFFIX[kind]}.json"
        text = self._texts.get(name)
        if text is None:
            try:
                text = (self._dir / name).read_text(encoding="utf-8")
            except OSError as exc:  # read on first use: a process out of descriptors cannot
                raise SchemaUnavailable(
                    f"the {action} {kind} schema cannot be read: {exc}"
                ) from None
        schema: dict[str, Any] = json.loads(text)
        return schema

    def read_ahead(self) -> None:
        """Read every schema's text now (about 0.5 MB; compiled still on first use), so that
        checking a message never needs a file descriptor: a fleet does this before its boot
        storm, and its stations keep answering when the process runs out of descriptors."""
        for entry in self._dir.iterdir():
            if entry.name.endswith(".json") and entry.name not in self._texts:
                self._texts[entry.name] = entry.read_text(encoding="utf-8")

    def validator(self, action: str, kind: Kind) -> Validator:
        """The jsonschema validator for ``action``'s request or response (compiled once)."""
        cached = self._validators[kind].get(action)
        if cached is None:
            with self._lock:
                cached = self._validators[kind].get(action)
                if cached is None:
                    from jsonschema.validators import validator_for  # lazy: see _format_checker

                    schema = self._schema(action, kind)
                    cls = validator_for(schema)
                    cls.check_schema(schema)
                    cached = cls(schema, format_checker=_format_checker())
                    self._validators[kind][action] = cached
        return cached

    def fast_check(self, action: str, kind: Kind) -> Check:
        """The compiled "is it valid?" predicate (jsonschema's own when the schema needs it)."""
        cached = self._fast[kind].get(action)
        if cached is None:
            with self._lock:
                cached = self._fast[kind].get(action)
                if cached is None:
                    try:
                        cached = compile_fast(self._schema(action, kind))
                    except UnsupportedSchema:
                        cached = self.validator(action, kind).is_valid
                    self._fast[kind][action] = cached
        return cached

    def validate(self, action: str, kind: Kind, payload: dict[str, Any]) -> None:
        """Raise :class:`OCPPError` with the mapped code when ``payload`` breaks the schema.

        The description names the offending field by its path (``evse.connectorId``,
        ``chargingSchedule[0].chargingRateUnit``; ``$`` is the payload itself) and ``details``
        holds ``{"field": path, "keyword": schema keyword}``.  An action OCPP 2.0.1 does not define
        raises ``NotImplemented``.
        """
        table = self._fast.get(kind)
        if table is None:
            raise ValueError(f"kind must be 'request' or 'response', not {kind!r}")
        check = table.get(action) or self.fast_check(action, kind)
        if check(payload):
            return
        error = _to_ocpp_error(self.validator(action, kind).iter_errors(payload))
        if error is not None:
            raise error


def _to_ocpp_error(errors: Iterable[ValidationError]) -> OCPPError | None:
    best: tuple[tuple[int, int, str], ErrorCode, str, str, str] | None = None
    for error in _flatten(errors):
        rank, code = _MAPPING.get(str(error.validator), _OTHER)
        path, depth, message = _describe(error)
        key = (rank, depth, path)
        if best is None or key < best[0]:
            best = (key, code, path, message, str(error.validator))
    if best is None:  # jsonschema overrules the fast path: no error after all
        return None
    _, code, path, message, keyword = best
    return OCPPError(code, f"{path}: {message}", {"field": path, "keyword": keyword})


def _flatten(errors: Iterable[ValidationError]) -> Iterable[ValidationError]:
    # anyOf/oneOf (not used by the 2.0.1 schemas today) carry the real causes in .context.
    for error in errors:
        if error.context:
            yield from _flatten(error.context)
        else:
            yield error


def _join(parts: Iterable[str | int]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _describe(error: ValidationError) -> tuple[str, int, str]:
    """The field path, its depth and a short message for one schema error."""
    parts: list[str | int] = list(error.absolute_path)
    keyword = error.validator
    value: Any = error.validator_value
    instance = error.instance
    if keyword == "additionalProperties" and isinstance(instance, dict):
        allowed = error.schema.get("properties", {})
        extra = sorted(k for k in instance if k not in allowed)
        if extra:
            parts.append(extra[0])
        message = "additional properties are not allowed (unexpected: " + ", ".join(extra) + ")"
    elif keyword == "required" and isinstance(instance, dict):
        missing = [name for name in value if name not in instance]
        if missing:
            parts.append(missing[0])
        message = "required property is missing"
    elif keyword == "type":
        message = f"expected {value}, got {_json_type(instance)} {_short(instance)}"
    elif keyword == "enum":
        message = f"{_short(instance)} is not one of " + ", ".join(map(str, value))
    elif keyword == "format":
        message = f"{_short(instance)} is not a valid {value}"
    elif keyword == "maxLength":
        message = f"string of {len(instance)} characters is longer than the maximum {value}"
    elif keyword == "minLength":
        message = f"string of {len(instance)} characters is shorter than the minimum {value}"
    elif keyword in ("minItems", "maxItems"):
        bound = "at least" if keyword == "minItems" else "at most"
        message = f"{len(instance)} items given, {bound} {value} allowed"
    elif keyword in ("minimum", "exclusiveMinimum"):
        message = f"{_short(instance)} is below the minimum {value}"
    elif keyword in ("maximum", "exclusiveMaximum"):
        message = f"{_short(instance)} is above the maximum {value}"
    else:
        message = error.message
    path = _join(parts) or ROOT
    return path, len(parts), message


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


@cache
def default_registry() -> SchemaRegistry:
    """The process-wide shared registry."""
    return SchemaRegistry()


def validate(action: str, kind: Kind, payload: dict[str, Any]) -> None:
    """Validate with the shared :func:`default_registry`; see :meth:`SchemaRegistry.validate`."""
    default_registry().validate(action, kind, payload)
