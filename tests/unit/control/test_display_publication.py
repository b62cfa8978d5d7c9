"""The ``display_messages`` publication as the control API shapes it (snake_case lines)."""

from __future__ import annotations

from ocpp_station.control.publications import shape


def test_display_lines_are_snake_case() -> None:
    data = {
        "lines": [
            {
                "id": "cost:T1",
                "source": "Cost",
                "priority": "InFront",
                "format": "UTF8",
                "content": "Cost so far: 1.50 EUR",
                "transactionId": "T1",
                "totalCost": 1.5,
                "currency": "EUR",
                "final": False,
            }
        ]
    }
    (line,) = shape("display_messages", data)["lines"]
    assert line["transaction_id"] == "T1"
    assert line["total_cost"] == 1.5
    assert "transactionId" not in line
