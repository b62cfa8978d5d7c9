"""Key-case conversion between OCPP's camelCase and EVerest's snake_case (seed 004)."""

from __future__ import annotations

import re
from typing import Any

_CAMEL = re.compile(r"_([a-z0-9])")
_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def to_camel(obj: Any) -> Any:
    """snake_case keys → camelCase (``connector_id`` → ``connectorId``), recursively."""
    if isinstance(obj, dict):
        return {_CAMEL.sub(lambda m: m.group(1).upper(), k): to_camel(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_camel(v) for v in obj]
    return obj


def to_snake(obj: Any) -> Any:
    """camelCase keys → snake_case, recursively."""
    if isinstance(obj, dict):
        return {_SNAKE.sub("_", k).lower(): to_snake(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_snake(v) for v in obj]
    return obj
