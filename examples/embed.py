"""Embedding a station in your own asyncio application.

The application builds the config in code (or loads a TOML file with ``load_config``), passes its
own hooks, listens to the station's publications in-process (OCPP-shaped: the messages the
station sent and received), and owns the lifecycle.

    python examples/embed.py ws://127.0.0.1:9000/ocpp /tmp/embedded-station
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from ocpp_station import Station, config_from_dict


async def reboot_board(reason: str) -> None:
    # On a charger this would sync the file systems and reboot the SBC (e.g. `systemctl reboot`).
    print(f"station core restarted after a reset ({reason}); a real board would reboot now")


async def run(csms_url: str, data_dir: Path, seconds: float | None = None) -> list[str]:
    """Run one simulated station; return the topics it published (for the test)."""
    config = config_from_dict(
        {
            "station": {
                "id": "EMBEDDED-1",
                "csms_url": csms_url,
                "data_dir": str(data_dir),
                "vendor": "ExampleVendor",
                "model": "Embedded",
                "password": "example-password-0123",
            },
            "evse": [{"id": 1, "connectors": [1]}],
            "hal": {"backend": "sim"},
        },
        source="embed.py",
    )
    published: list[str] = []
    registered = asyncio.Event()
    station = Station(config, on_reset=reboot_board)

    async def listener(topic: str, data: Any) -> None:
        published.append(topic)
        if topic == "boot_notification_response":
            print(f"CSMS answered the boot: {data['status']}")
            registered.set()
        elif topic == "ocpp_transaction_event":  # the TransactionEventRequest the station sent
            tx_id = data["transactionInfo"]["transactionId"]
            print(f"transaction {tx_id}: {data['eventType']} ({data['triggerReason']})")

    station.subscribe(listener)
    await station.start()
    try:
        if seconds is None:
            await station.wait_stopped()
        else:
            await registered.wait()
            await asyncio.sleep(seconds)
    finally:
        await station.stop()
    return published


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1], Path(sys.argv[2])))
