"""The pure rules of a log upload (N01) and the rotated diagnostics log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ocpp_station.blocks.diagnostics import logfile, rules
from ocpp_station.clock import parse_iso


def test_request_and_filename() -> None:
    request = rules.LogRequest.from_payload(
        {
            "logType": "DiagnosticsLog",
            "requestId": 12,
            "log": {"remoteLocation": "https://x/logs", "oldestTimestamp": "2026-01-01T00:00:00Z"},
        }
    )
    assert request.oldest == parse_iso("2026-01-01T00:00:00Z") and request.latest is None
    assert request.retries == rules.DEFAULT_RETRIES
    name = request.filename("CS/1", "2026-01-02T03:04:05.678Z")
    assert name == "CS_1-DiagnosticsLog-12-20260102T030405Z.log"


@pytest.mark.parametrize(
    ("http", "status"),
    [
        (None, "UploadFailure"),
        (500, "UploadFailure"),
        (401, "PermissionDenied"),
        (403, "PermissionDenied"),
        (405, "NotSupportedOperation"),
        (400, "BadMessage"),
    ],
)
def test_failure_status(http: int | None, status: str) -> None:
    assert rules.failure_status(http) == status
    assert rules.retryable(status) == (status == "UploadFailure")


def test_second_request_cancels_and_trigger() -> None:
    assert rules.answer_new_request(False) == "Accepted"
    assert rules.answer_new_request(True) == "AcceptedCanceled"  # N01.FR.12
    assert rules.triggered_status(None) == {"status": "Idle"}  # N01.FR.13
    assert rules.triggered_status(4) == {"status": "Uploading", "requestId": 4}


def test_select_lines_keeps_continuations_with_their_record() -> None:
    lines = [
        "2026-01-01T00:00:00.000Z INFO a: early\n",
        "2026-01-01T00:01:00.000Z ERROR a: boom\n",
        "Traceback (most recent call last):\n",
        "2026-01-01T00:02:00.000Z INFO a: late\n",
    ]
    oldest = parse_iso("2026-01-01T00:00:30Z")
    latest = parse_iso("2026-01-01T00:01:30Z")
    assert list(rules.select_lines(lines, oldest, latest)) == lines[1:3]
    assert list(rules.select_lines(lines, None, None)) == lines


def test_diagnostics_log_rotates_and_stays_bounded(tmp_path: Path) -> None:
    log = logfile.DiagnosticsLog(tmp_path / "logs", lambda: 1_767_225_600.0)
    logger = logging.getLogger("test.diagnostics.rotation")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    log.attach(logger)
    try:
        for i in range(30_000):
            logger.info("record %05d %s", i, "x" * 80)
    finally:
        log.detach()
    files = log.files()
    assert len(files) == logfile.BACKUPS + 1
    assert sum(f.stat().st_size for f in files) <= logfile.MAX_BYTES * (logfile.BACKUPS + 1)
    lines = log.lines()
    assert lines[-1].startswith("2026-01-01T00:00:00.000Z INFO test.diagnostics.rotation:")
    assert "record 29999" in lines[-1]
