"""Checking and normalising attribute values against variable characteristics (pure).

Every value is stored and exchanged as OCPP text.  :func:`check_value` returns the normalised text
or raises :class:`InvalidValue` carrying the OCPP reason code (OCPP 2.0.1 Part 2, appendix 5) and
a message that names the problem.

The primitive datatypes are read strictly (Part 2, "Primitive Datatypes"): an integer is ASCII
digits with an optional leading minus and nothing else (no ``+``, no spaces, no ``"٣"`` or
``"５"``, which Python's own ``int()`` would take); a decimal the same with an optional fraction
and exponent; any text that UTF-8 cannot carry (a lone UTF-16 surrogate) is InvalidValue.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

# RFC 3339 date-time: an offset (Z or +hh:mm) is mandatory, fractions of a second optional.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_INTEGER = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_LIST_TYPES = frozenset({"OptionList", "MemberList", "SequenceList"})


class Characteristics(Protocol):
    """What a value is checked against: a variable's dataType and limits (``VariableDef``)."""

    @property
    def data_type(self) -> str: ...
    @property
    def min_limit(self) -> float | None: ...
    @property
    def max_limit(self) -> float | None: ...
    @property
    def values(self) -> tuple[str, ...]: ...
    @property
    def pattern(self) -> re.Pattern[str] | None: ...


class InvalidValue(ValueError):
    """A value its variable does not accept; ``reason`` is an OCPP reason code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def to_text(value: object) -> str:
    """Python value → OCPP text: bool → "true"/"false", numbers → decimal text, a sequence of
    strings → comma-separated.  Raises :class:`TypeError` for anything else."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"{value!r} is not a finite number")
        return repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Sequence) and all(isinstance(item, str) for item in value):
        return ",".join(value)
    raise TypeError(
        f"{type(value).__name__} {value!r} is not a str, int, float, bool or list of str"
    )


def _fmt(limit: float) -> str:
    return str(int(limit)) if float(limit).is_integer() else str(limit)


def _check_range(number: float, var: Characteristics, label: str) -> None:
    if var.min_limit is not None and number < var.min_limit:
        raise InvalidValue("ValueTooLow", f"{label} is below minLimit {_fmt(var.min_limit)}")
    if var.max_limit is not None and number > var.max_limit:
        raise InvalidValue("ValueTooHigh", f"{label} is above maxLimit {_fmt(var.max_limit)}")


def _check_length(text: str, var: Characteristics) -> None:
    if var.max_limit is not None and len(text) > var.max_limit:
        raise InvalidValue(
            "ValueOutOfRange", f"{len(text)} characters, longer than maxLimit {_fmt(var.max_limit)}"
        )


def _split(text: str) -> list[str]:
    return [item.strip() for item in text.split(",")] if text.strip() else []


def check_value(var: Characteristics, text: str) -> str:
    """Validate ``text`` for ``var``'s dataType and limits; return the normalised text."""
    dtype = var.data_type
    if not _is_utf8(text):
        raise InvalidValue("InvalidValue", "is not valid UTF-8 text (a lone surrogate)")
    if dtype == "integer":
        if not _INTEGER.fullmatch(text):
            raise InvalidValue("InvalidValue", f"{text!r} is not an integer")
        _check_range(int(text), var, text)
        return str(int(text))
    if dtype == "decimal":
        if not _DECIMAL.fullmatch(text) or not math.isfinite(float(text)):
            raise InvalidValue("InvalidValue", f"{text!r} is not a decimal number")
        _check_range(float(text), var, text)
        return text
    if dtype == "boolean":
        lowered = text.strip().lower()
        if lowered not in ("true", "false"):
            raise InvalidValue("InvalidValue", f"{text!r} is not a boolean (true or false)")
        return lowered
    if dtype == "dateTime":
        stripped = text.strip()
        try:
            if not _RFC3339.fullmatch(stripped):
                raise ValueError
            datetime.fromisoformat(stripped.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise InvalidValue(
                "InvalidValue", f"{text!r} is not an RFC 3339 date-time with offset"
            ) from None
        return stripped
    if dtype in _LIST_TYPES:
        return _check_list(var, text)
    # string
    if var.min_limit is not None and len(text) < var.min_limit:
        raise InvalidValue(
            "ValueOutOfRange",
            f"{len(text)} characters, shorter than minLimit {_fmt(var.min_limit)}",
        )
    _check_length(text, var)
    if var.pattern is not None and not var.pattern.fullmatch(text):
        raise InvalidValue("InvalidValue", "contains characters this variable does not allow")
    if var.values and text not in var.values:
        raise InvalidValue("InvalidValue", f"{text!r} is not in valuesList {','.join(var.values)}")
    return text


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_list(var: Characteristics, text: str) -> str:
    items = _split(text)
    allowed = var.values
    unknown = [item for item in items if item not in allowed]
    if unknown:
        raise InvalidValue(
            "InvalidValue", f"{', '.join(unknown)} not in valuesList {','.join(allowed)}"
        )
    if var.data_type == "OptionList":
        if len(items) != 1:
            raise InvalidValue(
                "InvalidValue", f"OptionList takes exactly one of {','.join(allowed)}, got {text!r}"
            )
        return items[0]
    duplicates = sorted({item for item in items if items.count(item) > 1})
    if duplicates:
        raise InvalidValue("InvalidValue", f"{', '.join(duplicates)} listed more than once")
    if var.data_type == "SequenceList" and not items:
        raise InvalidValue("InvalidValue", "SequenceList needs at least one entry")
    normalised = ",".join(items)
    _check_length(normalised, var)
    return normalised
