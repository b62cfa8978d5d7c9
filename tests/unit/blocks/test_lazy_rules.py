"""The rules of four blocks that most stations never use (reservations, Reset, display messages,
the local authorization list) are loaded at their first use, not at start (issue 19: start-up
memory); a station whose store holds a reservation, a display message or a list loads those
rules at start and has what it holds.  Each start runs in a fresh interpreter (sys.modules is
shared by the test process)."""

from __future__ import annotations

import json
from pathlib import Path

from support import offline_station_toml, run_python

RULES = [
    "ocpp_station.blocks.reservation.rules",
    "ocpp_station.blocks.reset.planner",
    "ocpp_station.blocks.display.messages",
    "ocpp_station.blocks.local_list.list",
]

STATION = """\
import asyncio, json, sys
from ocpp_station import Station
from ocpp_station.config import load_config

RULES = {rules!r}

def loaded():
    return sorted(name for name in RULES if name in sys.modules)

def payload(answer):
    return answer if isinstance(answer, dict) else answer.payload

async def main():
    station = Station(load_config({config!r}))
    await station.start()  # stores, device model, every block; the CSMS is unreachable
    out = {{"at_start": loaded()}}
    try:
        b = station.blocks
        if {use!r}:
            out["reserve"] = payload(await b.reservation.on_reserve_now({{
                "id": 7, "expiryDateTime": "2099-01-01T00:00:00Z", "evseId": 1,
                "idToken": {{"idToken": "T1", "type": "ISO14443"}}}}))
            out["reset"] = payload(await b.reset.on_reset({{"type": "OnIdle", "evseId": 9}}))
            out["display"] = payload(await b.display.on_set({{"message": {{
                "id": 3, "priority": "NormalCycle",
                "message": {{"format": "UTF8", "content": "hello"}}}}}}))
            out["list"] = payload(await b.local_list.on_send_local_list({{
                "versionNumber": 1, "updateType": "Full", "localAuthorizationList": [{{
                    "idToken": {{"idToken": "T2", "type": "ISO14443"}},
                    "idTokenInfo": {{"status": "Accepted"}}}}]}}))
            out["after_use"] = loaded()
        out["held"] = [r.id for r in b.reservation.held]
        out["shown"] = [line.get("content") for line in b.display.shown]
        out["list_version"] = b.local_list.version
    finally:
        await station.stop()
    print(json.dumps(out))

asyncio.run(main())
"""


def _start(tmp_path: Path, use: bool) -> dict[str, object]:
    config = offline_station_toml(tmp_path)
    printed = run_python(STATION.format(rules=RULES, config=str(config), use=use))
    result: dict[str, object] = json.loads(printed.strip().splitlines()[-1])
    return result


def test_rules_load_at_first_use_and_at_a_start_that_needs_them(tmp_path: Path) -> None:
    first = _start(tmp_path, use=True)
    assert first["at_start"] == []  # a fresh station loads none of them
    assert first["reserve"] == {"status": "Accepted"}
    assert first["reset"]["status"] == "Rejected"  # type: ignore[index]  # an unknown EVSE
    assert first["display"] == {"status": "Accepted"}
    assert first["list"] == {"status": "Accepted"}
    assert first["after_use"] == sorted(RULES)
    assert first["held"] == [7]
    assert first["shown"] == ["hello"]

    # the same store: a reservation, a message and a list held, so their rules load at start;
    # the Reset planner holds nothing across a restart
    again = _start(tmp_path, use=False)
    assert again["at_start"] == sorted(RULES[:1] + RULES[2:])
    assert again["held"] == [7]
    assert again["shown"] == ["hello"]
    assert again["list_version"] == 1
