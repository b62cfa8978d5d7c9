"""The tariff and cost lines (I01-I06): their shape and how they follow the transactions."""

from __future__ import annotations

from ocpp_station.blocks.tariff import lines
from ocpp_station.blocks.tariff.lines import TariffScreen

TARIFF = {"format": "UTF8", "language": "en", "content": "0.30 EUR/kWh"}


def test_cost_line_running_and_final() -> None:
    running = lines.cost_line("T1", 1.5, "EUR", final=False)
    assert running["content"] == "Cost so far: 1.50 EUR"
    assert (running["source"], running["transactionId"], running["final"]) == ("Cost", "T1", False)
    assert lines.cost_line("T1", 12.345, "CHF", final=True)["content"] == "Total cost: 12.35 CHF"


def test_authorize_message_moves_to_the_transaction_that_starts() -> None:
    screen = TariffScreen()
    screen.tariff[lines.AUTHORIZE] = lines.personal_line(lines.AUTHORIZE, TARIFF)
    assert "transactionId" not in screen.lines()[0]
    screen.started("T1")
    (line,) = screen.lines()
    assert (line["id"], line["transactionId"], line["language"]) == ("tariff:T1", "T1", "en")


def test_ended_lines_stay_until_the_next_transaction_starts() -> None:
    screen = TariffScreen()
    screen.started("T1")
    screen.cost["T1"] = lines.cost_line("T1", 3.0, "EUR", final=True)
    screen.tariff["T1"] = lines.personal_line("T1", TARIFF)
    screen.finished("T1")
    assert len(screen.lines()) == 2
    screen.started("T2")
    assert screen.lines() == []


def test_fallback_line() -> None:
    line = lines.fallback_line("T9", "cost", "Your bill follows")
    assert line == {
        "id": "cost:T9",
        "source": "Fallback",
        "priority": "InFront",
        "format": "UTF8",
        "content": "Your bill follows",
        "transactionId": "T9",
    }
