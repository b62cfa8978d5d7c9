"""The status pages in a real browser: headless Chromium (Debian's ``chromium``) opens the station
page while a session charges and must show the transaction and a power figure that changes
without a reload; the fleet page must show the stations and filter them.

Set ``OCPP_STATION_SCREENSHOTS=docs`` to refresh the screenshots the README shows
(``docs/status-page.png``, ``docs/fleet-page.png``); otherwise they go to a temporary folder.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
from pathlib import Path

import pytest
from chromium import Browser, chromium_path
from support import sim, station_config

from ocpp_station import Station
from ocpp_station.csms import LocalCSMS
from ocpp_station.fleet import run_fleet

pytestmark = pytest.mark.skipif(
    chromium_path() is None,
    reason="headless browser test: Chromium is not installed "
    "(apt-get install chromium, or set CHROMIUM=/path/to/chromium)",
)


def screenshot_path(tmp: Path, name: str) -> Path:
    folder = os.environ.get("OCPP_STATION_SCREENSHOTS")
    return Path(folder) / name if folder else tmp / name


def tx_profile(tx_id: str, amps: float) -> dict[str, object]:
    return {
        "evseId": 1,
        "chargingProfile": {
            "id": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "transactionId": tx_id,
            "chargingSchedule": [
                {
                    "id": 1,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": amps}],
                }
            ],
        },
    }


async def test_station_page_shows_the_session_live(csms: LocalCSMS, short_tmp: Path) -> None:
    config = station_config(
        csms.url,
        short_tmp / "d",
        station_id="CHARGER-01",
        evses=[{"id": 1, "connectors": [1]}, {"id": 2, "connectors": [1]}],
        hal={"backend": "sim", "tick": 0.05, "meter_interval": 0.5},
    )
    station = Station(dataclasses.replace(config, http_listen="127.0.0.1:0"))
    await station.start()
    try:
        await csms.wait_for(lambda: station.online)
        sim(station).plug_in(1, 1)
        sim(station).present_id_token(1, "CARD-0042", "ISO14443")
        started = await csms.wait_received("TransactionEvent", station="CHARGER-01")
        tx_id = started[0]["transactionInfo"]["transactionId"]
        assert station.status_page is not None
        async with Browser(station.status_page.url) as page:
            shown = await page.wait_for(
                f"document.querySelector('#evse-1 .tx')?.textContent === {tx_id!r}"
                " && document.querySelector('#evse-1 .charging').textContent === 'Charging'"
                " && document.querySelector('#evse-1 .power').textContent"
            )
            assert shown == "22.08 kW"  # 32 A on 3 phases at 230 V
            await page.evaluate("window.__sameDocument = 'yes'")
            # the CSMS lowers the session to 8 A: the figure must change in the open page
            await csms.send("CHARGER-01", "SetChargingProfile", tx_profile(tx_id, 8.0))
            await page.wait_for(
                "document.querySelector('#evse-1 .power').textContent === '5.52 kW'"
                " && document.querySelector('#evse-1 .limit').textContent === '8 A'"
            )
            assert await page.evaluate("window.__sameDocument") == "yes"  # no reload
            assert await page.evaluate("document.getElementById('registration').textContent") == (
                "Accepted"
            )
            actions = await page.wait_for(
                "[...document.querySelectorAll('#frames tr')].map(r => r.cells[3].textContent)"
                ".filter(a => a === 'SetChargingProfile').length >= 2"  # the CALL and its result
            )
            assert actions
            await asyncio.sleep(0.6)  # let the energy figure move on for the picture
            await page.screenshot(screenshot_path(short_tmp, "status-page.png"))
    finally:
        await station.stop()


async def test_fleet_page_lists_and_filters_the_stations(csms: LocalCSMS, short_tmp: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    csms.policy.boot = [("Accepted", 1)]  # a heartbeat a second each: traffic to show
    template = station_config(csms.url, short_tmp / "fleet", station_id="RIG")
    stop = asyncio.Event()
    runner = asyncio.create_task(run_fleet(template, 12, stop=stop, http=f"127.0.0.1:{port}"))
    try:
        await csms.wait_for(lambda: len(csms.received("StatusNotification")) >= 12)
        async with Browser(f"http://127.0.0.1:{port}/", height=980) as page:
            await page.wait_for(
                "document.getElementById('connected').textContent === '12'"
                " && document.querySelectorAll('#rows tr').length === 12"
            )
            assert await page.evaluate("document.getElementById('count').textContent") == "12"
            await page.evaluate(
                "const f = document.getElementById('filter'); f.value = 'rig-0007';"
                "f.dispatchEvent(new Event('input'))"
            )
            ids = await page.wait_for(
                "(r => r.length === 1 && r[0].dataset.station)"
                "([...document.querySelectorAll('#rows tr')])"
            )
            assert ids == "RIG-0007"
            await page.evaluate(
                "const g = document.getElementById('filter'); g.value = '';"
                "g.dispatchEvent(new Event('input'))"
            )
            await page.wait_for("document.querySelectorAll('#rows tr').length === 12")
            await page.wait_for("document.getElementById('rtt-p50').textContent !== '–'")
            await page.wait_for("Number(document.getElementById('mps-out').textContent) > 0")
            await page.screenshot(screenshot_path(short_tmp, "fleet-page.png"))
    finally:
        stop.set()
        assert await asyncio.wait_for(runner, 30) == 0
