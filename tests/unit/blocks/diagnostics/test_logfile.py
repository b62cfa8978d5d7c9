"""The diagnostics log file rotates at its size bound and keeps its old files private
(ocpp_station/blocks/diagnostics/logfile.py; N01.FR.04: the log GetLog uploads)."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from ocpp_station.blocks.diagnostics import logfile
from ocpp_station.blocks.diagnostics.logfile import DiagnosticsLog


def test_it_rotates_at_the_bound_and_keeps_the_newest_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logfile, "MAX_BYTES", 2000)
    log = DiagnosticsLog(tmp_path / "logs", now=lambda: 1_767_225_600.0)
    logger = logging.getLogger("test.logfile.rotate")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    log.attach(logger)
    try:
        for n in range(400):
            logger.info("line %04d %s", n, "x" * 40)
    finally:
        log.detach()
    files = log.files()
    names = [p.name for p in files]
    assert names == [
        "diagnostics.log.3",
        "diagnostics.log.2",
        "diagnostics.log.1",
        "diagnostics.log",
    ]
    for path in files:
        assert path.stat().st_size < 2000
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = log.lines()
    numbers = [int(line.split("line ")[1][:4]) for line in lines]
    assert numbers == sorted(numbers) and numbers[-1] == 399  # oldest first, nothing reordered
    assert numbers == list(range(numbers[0], 400))  # no line lost inside the kept files
    assert lines[0].startswith("2026-01-01T00:00:00")  # the station clock's time


def test_it_appends_to_an_existing_log(tmp_path: Path) -> None:
    logger = logging.getLogger("test.logfile.append")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for word in ("first", "second"):
        log = DiagnosticsLog(tmp_path, now=lambda: 0.0)
        log.attach(logger)
        logger.info(word)
        log.detach()
    assert [line.split(": ")[-1].strip() for line in log.lines()] == ["first", "second"]
