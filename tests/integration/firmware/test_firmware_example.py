"""The install-step example (examples/firmware_install.py) through the embedding API: the image
the CSMS names lands in the slot, and the station reports Installed after the reboot."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from filetransfer import FileServer
from support import EXAMPLES, station_config

from ocpp_station import Station
from ocpp_station.clock import iso
from ocpp_station.csms import LocalCSMS

sys.path.insert(0, str(EXAMPLES))

from firmware_install import SlotInstaller


async def test_slot_installer_receives_the_image(csms: LocalCSMS, short_tmp: Path) -> None:
    server = FileServer().start()
    restarts: list[str] = []

    async def on_reset(reason: str) -> None:
        restarts.append(reason)

    station = Station(
        station_config(csms.url, short_tmp / "CS001"),
        on_reset=on_reset,
        install_firmware=SlotInstaller(short_tmp / "slot-b"),
    )
    try:
        server.files["/v2.bin"] = b"new firmware" * 1000
        await station.start()
        await csms.wait_for(lambda: station.online)
        payload = {
            "requestId": 21,
            "firmware": {"location": server.url("/v2.bin"), "retrieveDateTime": iso(time.time())},
        }
        assert (await csms.send("CS001", "UpdateFirmware", payload))["status"] == "Accepted"
        await csms.wait_for(
            lambda: (
                {"status": "Installed", "requestId": 21}
                in csms.received("FirmwareStatusNotification")
            ),
            timeout=15,
        )
    finally:
        await station.stop()
        server.stop()
    assert (short_tmp / "slot-b" / "firmware.bin").read_bytes() == b"new firmware" * 1000
    assert restarts == ["FirmwareUpdate"]
    assert csms.received("BootNotification")[-1]["reason"] == "FirmwareUpdate"
