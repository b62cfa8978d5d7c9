"""Firmware update end to end (use cases L01 secure, L02 non-secure; issue 16).

A real station (sim HAL, whose default install step installs nothing and asks for a reboot)
against the ``ocpp``-package CSMS, downloading from real HTTP(S) servers started here; the
firmware is signed with a key and certificate made here under a manufacturer root the station is
configured with.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from filetransfer import FileServer, SigningPki, free_port_url, make_signing_pki
from pki import make_pki
from support import sim, station_config

from ocpp_station import Station
from ocpp_station.clock import iso
from ocpp_station.csms import LocalCSMS

IMAGE = b"firmware image " * 5000

Factory = Callable[..., Any]


@pytest.fixture
def signing(tmp_path: Path) -> SigningPki:
    return make_signing_pki(tmp_path / "manufacturer")


@pytest.fixture
async def station_for(
    csms: LocalCSMS, short_tmp: Path, signing: SigningPki
) -> AsyncIterator[Factory]:
    started: list[Station] = []

    async def factory(**kwargs: Any) -> Station:
        config = station_config(csms.url, short_tmp / "CS001", **kwargs)
        config.manufacturer_root = signing.root_file
        station = Station(config)
        started.append(station)
        await station.start()
        await csms.wait_for(lambda: station.online)
        return station

    yield factory
    for station in started:
        await station.stop()


@pytest.fixture
def http_server() -> AsyncIterator[FileServer] | Any:
    server = FileServer().start()
    yield server
    server.stop()


def statuses(csms: LocalCSMS) -> list[tuple[str, int | None]]:
    return [(p["status"], p.get("requestId")) for p in csms.received("FirmwareStatusNotification")]


def security_events(csms: LocalCSMS) -> list[str]:
    return [p["type"] for p in csms.received("SecurityEventNotification")]


async def wait_status(csms: LocalCSMS, status: str, timeout: float = 15.0) -> None:
    await csms.wait_for(lambda: status in [s for s, _ in statuses(csms)], timeout)


def request(location: str, request_id: int = 7, **firmware: Any) -> dict[str, Any]:
    return {
        "requestId": request_id,
        "retries": 0,
        "firmware": {"location": location, "retrieveDateTime": iso(time.time()), **firmware},
    }


async def test_signed_firmware_over_https_is_installed_after_a_reboot(
    csms: LocalCSMS, station_for: Factory, signing: SigningPki, tmp_path: Path
) -> None:
    """L01 happy flow: every status in order with the requestId (L01.FR.01/10), the reboot
    with reason FirmwareUpdate, Installed from the new firmware (L01.FR.32 a), FirmwareUpdated
    (L01.FR.31), then TriggerMessage gives Idle (L01.FR.25)."""
    pki = make_pki(tmp_path / "tls")
    server = FileServer(context=pki.server_ssl_context()).start()
    try:
        server.files["/fw.bin"] = IMAGE
        station = await station_for(ca_file=str(pki.ca_cert))
        payload = request(
            server.url("/fw.bin"),
            signingCertificate=signing.certificate_pem,
            signature=signing.sign(IMAGE),
        )
        answer = await csms.send("CS001", "UpdateFirmware", payload)
        assert answer["status"] == "Accepted"
        await wait_status(csms, "Installed")
    finally:
        server.stop()
    assert statuses(csms) == [
        (s, 7)
        for s in (
            "Downloading",
            "Downloaded",
            "SignatureVerified",
            "Installing",
            "InstallRebooting",
            "Installed",
        )
    ]
    boots = csms.received("BootNotification")
    assert [b["reason"] for b in boots] == ["PowerUp", "FirmwareUpdate"]
    await csms.wait_for(lambda: "FirmwareUpdated" in security_events(csms))
    # Installed came from the restarted station: after its BootNotification.
    kinds = [f.action for f in csms.frames if f.direction == "in" and f.kind == 2]
    assert kinds.index("BootNotification", 1) < len(kinds) - kinds[::-1].index(
        "FirmwareStatusNotification"
    )
    answer = await csms.send(
        "CS001", "TriggerMessage", {"requestedMessage": "FirmwareStatusNotification"}
    )
    assert answer["status"] == "Accepted"
    await csms.wait_for(lambda: statuses(csms)[-1] == ("Idle", None))
    assert station.status()["firmware"]["status"] == "Installed"


async def test_bad_signature_gives_invalid_signature(
    csms: LocalCSMS, station_for: Factory, signing: SigningPki, http_server: FileServer
) -> None:
    """L01 step 5 / L01.FR.03: InvalidSignature and the security event; nothing installed."""
    http_server.files["/fw.bin"] = IMAGE
    await station_for()
    payload = request(
        http_server.url("/fw.bin"),
        signingCertificate=signing.certificate_pem,
        signature=signing.sign(b"another image"),
    )
    assert (await csms.send("CS001", "UpdateFirmware", payload))["status"] == "Accepted"
    await wait_status(csms, "InvalidSignature")
    await csms.wait_for(lambda: "InvalidFirmwareSignature" in security_events(csms))
    assert statuses(csms) == [("Downloading", 7), ("Downloaded", 7), ("InvalidSignature", 7)]
    assert len(csms.received("BootNotification")) == 1


async def test_certificate_from_another_root_is_refused_before_download(
    csms: LocalCSMS, station_for: Factory, http_server: FileServer, tmp_path: Path
) -> None:
    """L01.FR.21/22 and L01.FR.02: InvalidCertificate and InvalidFirmwareSigningCertificate."""
    stranger = make_signing_pki(tmp_path / "stranger", "Stranger Root")
    await station_for()
    payload = request(
        http_server.url("/fw.bin"),
        signingCertificate=stranger.certificate_pem,
        signature=stranger.sign(IMAGE),
    )
    answer = await csms.send("CS001", "UpdateFirmware", payload)
    assert answer["status"] == "InvalidCertificate"
    await csms.wait_for(lambda: "InvalidFirmwareSigningCertificate" in security_events(csms))
    assert statuses(csms) == []
    assert http_server.requests == []


async def test_unreachable_location_fails_after_the_retries(
    csms: LocalCSMS, station_for: Factory
) -> None:
    """L01.FR.30: DownloadFailed once every retry failed (retries 2, retryInterval 1 s)."""
    await station_for()
    payload = {**request(free_port_url("/fw.bin")), "retries": 2, "retryInterval": 1}
    began = time.monotonic()
    assert (await csms.send("CS001", "UpdateFirmware", payload))["status"] == "Accepted"
    await wait_status(csms, "DownloadFailed")
    assert time.monotonic() - began >= 2.0  # two waits of retryInterval before giving up
    assert statuses(csms) == [("Downloading", 7), ("DownloadFailed", 7)]


async def test_running_transaction_delays_the_installation(
    csms: LocalCSMS, station_for: Factory, http_server: FileServer
) -> None:
    """L02 with a transaction on EVSE 1: InstallScheduled while it runs (L01.FR.34/L02.FR.23),
    the idle EVSE 2 goes Unavailable (L01.FR.07), installation once it ended (L01.FR.06)."""
    http_server.files["/fw.bin"] = IMAGE
    station = await station_for(
        evses=[{"id": 1, "connectors": [1]}, {"id": 2, "connectors": [1]}],
        device_model={"SampledDataCtrlr.TxUpdatedInterval": 0, "AlignedDataCtrlr.Interval": 0},
    )
    sim(station).plug_in(1)
    sim(station).present_id_token(1, "TOKEN1", "ISO14443")
    await csms.wait_for(
        lambda: any(e["eventType"] == "Started" for e in csms.received("TransactionEvent"))
    )
    payload = request(http_server.url("/fw.bin"), request_id=9)
    assert (await csms.send("CS001", "UpdateFirmware", payload))["status"] == "Accepted"
    await wait_status(csms, "InstallScheduled")
    await csms.wait_for(
        lambda: any(
            s["evseId"] == 2 and s["connectorStatus"] == "Unavailable"
            for s in csms.received("StatusNotification")
        )
    )
    assert "Installing" not in [s for s, _ in statuses(csms)]
    sim(station).unplug(1)
    await wait_status(csms, "Installed")
    assert statuses(csms) == [
        (s, 9)
        for s in (
            "Downloading",
            "Downloaded",
            "InstallScheduled",
            "Installing",
            "InstallRebooting",
            "Installed",
        )
    ]
    ended = [e for e in csms.received("TransactionEvent") if e["eventType"] == "Ended"]
    assert ended, "the transaction ended before the installation"


async def test_second_request_cancels_a_scheduled_update(
    csms: LocalCSMS, station_for: Factory, http_server: FileServer
) -> None:
    """L01.FR.13 DownloadScheduled, then L01.FR.24: the next request answers AcceptedCanceled."""
    http_server.files["/fw.bin"] = IMAGE
    await station_for()
    later = request(http_server.url("/fw.bin"), request_id=1)
    later["firmware"]["retrieveDateTime"] = iso(time.time() + 3600)
    assert (await csms.send("CS001", "UpdateFirmware", later))["status"] == "Accepted"
    await wait_status(csms, "DownloadScheduled")
    now = request(http_server.url("/fw.bin"), request_id=2)
    assert (await csms.send("CS001", "UpdateFirmware", now))["status"] == "AcceptedCanceled"
    await wait_status(csms, "Installed")
    assert statuses(csms)[0] == ("DownloadScheduled", 1)
    assert [s for s in statuses(csms)[1:] if s[1] != 2] == []


async def test_update_cut_short_by_a_restart_is_reported_failed(
    csms: LocalCSMS, station_for: Factory, http_server: FileServer
) -> None:
    """A restart while the update waits to download: after the boot, DownloadFailed for it,
    and a TriggerMessage reports that status (L01.FR.26)."""
    station = await station_for()
    later = request(http_server.url("/fw.bin"), request_id=4)
    later["firmware"]["retrieveDateTime"] = iso(time.time() + 3600)
    await csms.send("CS001", "UpdateFirmware", later)
    await wait_status(csms, "DownloadScheduled")
    await station.restart_core("RemoteReset")
    await wait_status(csms, "DownloadFailed")
    assert statuses(csms) == [("DownloadScheduled", 4), ("DownloadFailed", 4)]
    await csms.send("CS001", "TriggerMessage", {"requestedMessage": "FirmwareStatusNotification"})
    await csms.wait_for(lambda: len(statuses(csms)) == 3)
    assert statuses(csms)[-1] == ("DownloadFailed", 4)
