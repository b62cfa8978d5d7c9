"""Charge-controller hardware abstraction: ``hal.open("sim" | "serial" | "can", **options)``.

Backends are registered by name, as python-can registers its interfaces; a firmware team adds its
own with :func:`register` (a factory taking keyword options and returning a
:class:`ChargeController`).  Every backend reports the typed, frozen events of :mod:`hal.types`
and runs its timers on an injected :class:`Clock` (``clock=`` option; :class:`SystemClock` by
default).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from hal.clock import Clock, SystemClock
from hal.types import (
    COMMUNICATION_LOST,
    ChargeController,
    ContactorChanged,
    FaultChanged,
    HalError,
    HalEvent,
    IdTokenPresented,
    LockChanged,
    MeterReading,
    PilotState,
    PilotStateChanged,
    PlugChanged,
)

__all__ = [
    "COMMUNICATION_LOST",
    "ChargeController",
    "Clock",
    "ContactorChanged",
    "FaultChanged",
    "HalError",
    "HalEvent",
    "IdTokenPresented",
    "LockChanged",
    "MeterReading",
    "PilotState",
    "PilotStateChanged",
    "PlugChanged",
    "SystemClock",
    "backends",
    "open",
    "register",
]

Factory = Callable[..., ChargeController]

# Built-in backends, imported on first use so that e.g. python-can is only loaded for "can".
_BUILTIN: dict[str, str] = {
    "sim": "hal.backends.sim:SimBackend",
    "serial": "hal.backends.serial:SerialBackend",
    "can": "hal.backends.can:CanBackend",
}
_registry: dict[str, Factory] = {}


def register(name: str, factory: Factory) -> None:
    """Register a backend factory under ``name`` (replaces an earlier one of that name)."""
    _registry[name] = factory


def backends() -> list[str]:
    return sorted(set(_BUILTIN) | set(_registry))


def open(name: str, **options: Any) -> ChargeController:
    """Create (not yet connect) the controller of backend ``name``; call ``await c.open()``."""
    factory = _registry.get(name)
    if factory is None:
        target = _BUILTIN.get(name)
        if target is None:
            if ":" in name:  # "package.module:Class" for a backend outside this package
                target = name
            else:
                raise ValueError(f"unknown HAL backend {name!r}; known: {', '.join(backends())}")
        module_name, _, attr = target.partition(":")
        factory = getattr(importlib.import_module(module_name), attr)
        _registry[name] = factory
    return factory(**options)
