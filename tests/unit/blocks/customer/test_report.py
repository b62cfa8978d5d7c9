"""The pure rules of CustomerInformation (N09, N10)."""

from __future__ import annotations

import pytest

from ocpp_station.blocks.customer import report

TOKEN = {"idToken": "T1", "type": "ISO14443"}


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"report": True, "clear": False, "idToken": TOKEN}, "Accepted"),
        ({"report": False, "clear": True, "customerIdentifier": "c"}, "Accepted"),
        ({"report": True, "clear": False}, "Invalid"),  # N09.FR.09: none
        ({"report": True, "clear": False, "idToken": TOKEN, "customerIdentifier": "c"}, "Invalid"),
        ({"report": False, "clear": False, "idToken": TOKEN}, "Rejected"),  # N09.FR.07
    ],
)
def test_decide(payload: dict[str, object], status: str) -> None:
    assert report.decide(payload) == status


def test_report_text() -> None:
    lines = report.describe([{"source": "AuthorizationCache", "idToken": TOKEN}])
    assert lines == ['{"idToken":{"idToken":"T1","type":"ISO14443"},"source":"AuthorizationCache"}']
    assert report.report_text(lines, report=True, cleared=1) == lines[0]
    assert report.report_text([], report=True, cleared=0) == report.NO_DATA  # N09.FR.06
    assert report.report_text(lines, report=False, cleared=1).startswith("Customer data cleared")


def test_parts_are_numbered_and_chained() -> None:
    parts = report.notifications("x" * 1100, 7, "2026-01-01T00:00:00.000Z")
    assert [len(p["data"]) for p in parts] == [512, 512, 76]
    assert [p["seqNo"] for p in parts] == [0, 1, 2]
    assert [p["tbc"] for p in parts] == [True, True, False]
    assert {p["requestId"] for p in parts} == {7}
    assert report.notifications("", 1, "t")[0]["tbc"] is False
