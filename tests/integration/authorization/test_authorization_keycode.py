"""C04.FR.04: an idToken of type KeyCode (a PIN) never appears in any log of the station - not in
its own lines, not in the websocket library's frame-by-frame DEBUG lines, not in the frame trace
(``on_frame``) an integrator logs - while the CSMS still gets the PIN on the wire."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support import queued, sim, station_config

from ocpp_station import Station
from ocpp_station.csms import LocalCSMS

PIN = "731904"
WRONG_PIN = "480215"
CSMS_LOGS = ("ocpp:", "websockets.server")


@pytest.fixture
async def traced(csms: LocalCSMS, short_tmp: Path) -> AsyncIterator[Station]:
    """A station whose frame trace goes to a DEBUG logger, as an integrator would wire it."""
    trace = logging.getLogger("test.frames")
    config = station_config(
        csms.url,
        short_tmp / "CS001",
        device_model={"SampledDataCtrlr.TxUpdatedInterval": 0, "AlignedDataCtrlr.Interval": 0},
    )
    station = Station(
        config, on_frame=lambda direction, text: trace.debug("%s %s", direction, text)
    )
    await station.start()
    try:
        yield station
    finally:
        await station.stop()


async def test_pin_never_logged(
    csms: LocalCSMS, traced: Station, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    station = traced
    await csms.wait_for(lambda: station.online)
    csms.policy.token_status[WRONG_PIN] = "Invalid"

    sim(station).present_id_token(1, WRONG_PIN, "KeyCode")  # refused: logged as such
    await csms.wait_received("Authorize")
    await csms.wait_for(lambda: "not accepted" in caplog.text)
    sim(station).plug_in(1, 1)
    sim(station).present_id_token(1, PIN, "KeyCode")
    await csms.wait_for(lambda: sim(station).model.status()["evses"][0]["power_w"] > 0)
    sim(station).present_id_token(1, PIN, "KeyCode")  # E07: the same PIN ends the session
    await csms.wait_for(lambda: csms.received("TransactionEvent")[-1]["eventType"] == "Ended")
    await csms.wait_for(lambda: queued(station) == 0)

    # the CSMS got the PINs: they were on the wire
    authorize = csms.received("Authorize")
    assert [a["idToken"]["idToken"] for a in authorize] == [WRONG_PIN, PIN]
    assert csms.received("TransactionEvent")[0]["idToken"] == {"idToken": PIN, "type": "KeyCode"}
    # ... and in no log line of the station (the CSMS of this test, the ocpp package and its
    # websockets server, logs in the same process: its lines are not the station's)
    station_lines = [
        r.getMessage() for r in caplog.records if not (r.name + ":").startswith(CSMS_LOGS)
    ]
    assert any("KeyCode:***" in line for line in station_lines)  # the refusal, PIN masked
    traces = [r.getMessage() for r in caplog.records if r.name == "test.frames"]
    assert any('"Authorize"' in t and '"***"' in t for t in traces)
    for line in station_lines:
        assert PIN not in line and WRONG_PIN not in line, line
