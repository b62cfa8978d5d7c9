"""The pure rules of a firmware update (L01/L02)."""

from __future__ import annotations

import pytest

from ocpp_station.blocks.firmware import rules
from ocpp_station.clock import parse_iso

PAYLOAD = {
    "requestId": 5,
    "firmware": {
        "location": "https://fw.example/img.bin",
        "retrieveDateTime": "2026-01-01T00:00:00Z",
    },
}


def test_request_defaults_and_security() -> None:
    request = rules.UpdateRequest.from_payload(PAYLOAD)
    assert request.retries == rules.DEFAULT_RETRIES
    assert request.retry_interval == rules.DEFAULT_RETRY_INTERVAL
    assert request.retrieve_at == parse_iso("2026-01-01T00:00:00Z")
    assert request.install_at is None
    assert not request.secure  # L02: no certificate, no signature
    signed = {**PAYLOAD, "firmware": {**PAYLOAD["firmware"], "signature": "c2ln"}}
    assert rules.UpdateRequest.from_payload(signed).secure


@pytest.mark.parametrize(
    ("phase", "answer"),
    [
        (rules.IDLE, "Accepted"),
        (rules.PREPARING, "AcceptedCanceled"),  # L01.FR.24
        (rules.INSTALLING, "Rejected"),  # L01.FR.27
    ],
)
def test_answer_to_a_new_request(phase: str, answer: str) -> None:
    assert rules.answer_new_request(phase) == answer


def test_retry_delays_wait_between_attempts_only() -> None:
    assert rules.retry_delays(0, 10) == [0.0]
    assert rules.retry_delays(2, 10) == [0.0, 10, 10]


def test_due_in_treats_clock_skew_as_now() -> None:
    assert rules.due_in(None, 100.0) == 0.0
    assert rules.due_in(100.5, 100.0) == 0.0
    assert rules.due_in(160.0, 100.0) == 60.0


def test_trigger_reports_last_status_or_idle() -> None:
    """L01.FR.25/26; L01.FR.20: no requestId with Idle."""
    assert rules.triggered_status(None) == {"status": "Idle"}
    assert rules.triggered_status({"status": "Installed", "requestId": 3}) == {"status": "Idle"}
    assert rules.triggered_status({"status": "Downloading", "requestId": 3}) == {
        "status": "Downloading",
        "requestId": 3,
    }


@pytest.mark.parametrize(
    ("last", "reported"),
    [
        (None, None),
        ("Installed", None),
        ("InstallRebooting", None),
        ("Downloading", "DownloadFailed"),
        ("DownloadScheduled", "DownloadFailed"),
        ("SignatureVerified", "InstallationFailed"),
        ("Installing", "InstallationFailed"),
    ],
)
def test_an_update_cut_short_is_reported_failed(last: str | None, reported: str | None) -> None:
    assert rules.interrupted_status(last) == reported
