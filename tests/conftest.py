"""Shared fixtures: a CSMS built on the ``ocpp`` package and stations wired to it."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from support import StationFactory, station_config

from ocpp_station import Station
from ocpp_station.csms import LocalCSMS


@pytest.fixture(autouse=True)
def root_logging_restored() -> Iterator[None]:
    """``cli.main`` (and ``controller-sim``, ``bench``) set up the process's logging: undo it
    after every test, so no test sees the root level or handlers another one left."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A short folder (Unix socket paths are limited to 108 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="ocs", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
async def csms() -> AsyncIterator[LocalCSMS]:
    server = LocalCSMS()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def make_station(csms: LocalCSMS, short_tmp: Path) -> AsyncIterator[StationFactory]:
    started: list[Station] = []

    async def factory(start: bool = True, url: str | None = None, **kwargs: Any) -> Station:
        kwargs.setdefault("station_id", f"CS{len(started) + 1:03d}")
        data_dir = kwargs.pop("data_dir", short_tmp / kwargs["station_id"])
        config = station_config(url or csms.url, data_dir, **kwargs)
        station = Station(config)
        started.append(station)
        if start:
            await station.start()
        return station

    yield factory
    for station in started:
        await station.stop()
