"""A firmware install step for an embedded station (OCPP 2.0.1 use cases L01/L02).

The station downloads the image the CSMS names, checks its signature against the manufacturer
root (``[firmware] manufacturer_root``) and then hands it to the install step.  This one stages
the image for an A/B bootloader: it copies it into the inactive slot, checks the copy and asks
for a reboot, after which the station reports ``Installed`` with boot reason ``FirmwareUpdate``.

    python examples/firmware_install.py ws://127.0.0.1:9000/ocpp /tmp/fw-station /tmp/slot-b

The same step without code: ``[firmware] install_command = ["/usr/local/bin/flash", "{file}"]``
(exit status 0 installed, 3 the image failed verification, anything else failed).
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import sys
from pathlib import Path

from ocpp_station import (
    FirmwareImage,
    InstallFailed,
    InstallVerificationFailed,
    Station,
    config_from_dict,
)


class SlotInstaller:
    """Copy the image into the inactive slot; a reboot activates it."""

    def __init__(self, slot: Path) -> None:
        self.slot = slot

    async def __call__(self, image: FirmwareImage) -> str:
        # Blocking file work goes to a thread: the station's event loop keeps serving the CSMS.
        await asyncio.to_thread(self._copy, image.path)
        return "RebootRequired"  # "Installed" when the new firmware already runs

    def _copy(self, source: Path) -> None:
        try:
            self.slot.mkdir(parents=True, exist_ok=True)
            target = self.slot / "firmware.bin"
            shutil.copyfile(source, target)
        except OSError as exc:
            raise InstallFailed(f"cannot write the slot: {exc}") from None
        if _sha256(target) != _sha256(source):
            raise InstallVerificationFailed("the copy in the slot differs from the image")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def reboot_board(reason: str) -> None:
    # After "FirmwareUpdate" a real board would switch the bootloader to the new slot and reboot.
    print(f"station core restarted ({reason}); a real board would boot the new slot now")


async def main(csms_url: str, data_dir: Path, slot: Path) -> None:
    config = config_from_dict(
        {
            "station": {
                "id": "FW-EXAMPLE-1",
                "csms_url": csms_url,
                "data_dir": str(data_dir),
                "password": "example-password-0123",
            },
            "evse": [{"id": 1, "connectors": [1]}],
            "hal": {"backend": "sim"},
        },
        source="firmware_install.py",
    )
    station = Station(config, on_reset=reboot_board, install_firmware=SlotInstaller(slot))
    await station.start()
    try:
        await station.wait_stopped()
    finally:
        await station.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])))
