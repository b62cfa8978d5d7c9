"""The diagnostics log holds no descriptor between records (issue 19: a fleet of 10,000 stations
must not keep 10,000 log files open), and every record is in the file when it was logged."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ocpp_station.blocks.diagnostics.logfile import DiagnosticsLog


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_the_log_file_is_closed_between_records(tmp_path: Path) -> None:
    logger = logging.getLogger("test.diagnostics.descriptor")
    logger.setLevel(logging.INFO)
    log = DiagnosticsLog(tmp_path / "logs", lambda: 1_700_000_000.0)
    before = open_fds()
    log.attach(logger)
    try:
        assert open_fds() == before  # nothing opened before the first record
        logger.info("first")
        assert open_fds() == before
        logger.warning("second")
        assert open_fds() == before
        text = log.path.read_text(encoding="utf-8")  # no flush needed: written and closed
        assert "INFO test.diagnostics.descriptor: first" in text
        assert "WARNING test.diagnostics.descriptor: second" in text
        assert (log.path.stat().st_mode & 0o777) == 0o600
        assert [line.split(": ", 1)[1].strip() for line in log.lines()] == ["first", "second"]
    finally:
        log.detach()
