"""The configs of a fleet (pure): station ``i`` of ``N`` made from the template config.

Station ``i`` (1-based) is ``<template id>-<i>`` (zero-padded to at least 4 digits), keeps its
SQLite files in ``<template data_dir>/<its id>`` and runs the ``sim`` HAL backend with the
template's sim options; it has no control socket and no status page of its own.
"""

from __future__ import annotations

import dataclasses

from hal.backends.sim import MODEL_OPTIONS
from ocpp_station.config import StationConfig
from ocpp_station.transport import STATION_ID_MAX_LENGTH

MAX_COUNT = 100_000
SIM_OPTIONS = frozenset({"tick", *MODEL_OPTIONS})


class FleetError(ValueError):
    """A template or count the fleet cannot use (the message names the problem)."""


def station_id(template_id: str, index: int, count: int) -> str:
    """The id of station ``index`` (1-based) of ``count``: ``CS-0001``; wider past 9999."""
    width = max(4, len(str(count)))
    return f"{template_id}-{index:0{width}d}"


def fleet_configs(
    template: StationConfig, count: int, indices: range | None = None
) -> list[StationConfig]:
    """The configs of a fleet of ``count`` stations made from ``template`` (pure); only those of
    the 1-based ``indices`` when given (a shard or a worker's slice: ``fleet_shard``)."""
    if isinstance(count, bool) or not isinstance(count, int):
        raise FleetError(f"count must be an integer, got {count!r}")
    if not 1 <= count <= MAX_COUNT:
        raise FleetError(f"count must be between 1 and {MAX_COUNT}, got {count}")
    if template.hal_backend != "sim":
        raise FleetError(
            f"{template.source}: [hal] backend must be 'sim' for a fleet of simulated stations, "
            f"got {template.hal_backend!r}"
        )
    unknown = sorted(set(template.hal_options) - SIM_OPTIONS)
    if unknown:
        raise FleetError(
            f"{template.source}: [hal]: unknown sim option(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(SIM_OPTIONS))}"
        )
    last = station_id(template.id, count, count)
    if len(last) > STATION_ID_MAX_LENGTH:
        raise FleetError(
            f"{template.source}: station.id: fleet ids such as {last!r} are longer than "
            f"{STATION_ID_MAX_LENGTH} characters; use a shorter template id"
        )
    if indices is None:
        indices = range(1, count + 1)
    elif indices.step != 1 or (indices and not 1 <= indices[0] <= indices[-1] <= count):
        raise FleetError(f"station indices {indices!r} are not a slice of 1..{count}")
    configs = []
    for index in indices:
        sid = station_id(template.id, index, count)
        configs.append(
            dataclasses.replace(
                template,
                id=sid,
                data_dir=template.data_dir / sid,
                hal_options=dict(template.hal_options),
                device_model=dict(template.device_model),
                control_socket=None,
                http_listen=None,
                evses=list(template.evses),
            )
        )
    return configs
