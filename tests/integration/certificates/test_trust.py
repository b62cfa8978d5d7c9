"""What the installed certificates are trusted for: the CSMS roots for the TLS connection (from
the next connection on, M05), under AdditionalRootCertificateCheck with a fallback root
(M05.FR.09–13), and the manufacturer roots for signed firmware (L01)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from filetransfer import free_port_url, make_signing_pki
from pki import (
    Issued,
    chain_set,
    delete,
    entries,
    hash_data,
    install,
    issue_server,
    listed,
    make_ca,
    server_context,
)
from support import station_config

from ocpp_station import Station
from ocpp_station.clock import iso
from ocpp_station.csms import LocalCSMS

SID = "CS001"
FAST_RETRY = {"OCPPCommCtrlr.RetryBackOffRepeatTimes": 0}  # reconnect every second


class Rig:
    """A TLS CSMS that can be replaced by another one on the same port (the "reconnect")."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.csms: LocalCSMS | None = None
        self.port = 0
        self.count = 0
        self.stations: list[Station] = []

    async def serve(self, server: Issued) -> LocalCSMS:
        if self.csms is not None:
            await self.csms.stop()
        self.count += 1
        context = server_context(server, self.folder / f"server{self.count}")
        self.csms = await LocalCSMS(port=self.port, ssl_context=context).start()
        self.port = self.csms.port
        return self.csms

    async def station(self, ca_file: Path, **device_model: Any) -> Station:
        assert self.csms is not None
        config = station_config(
            self.csms.url,
            self.folder / "station",
            security_profile=2,
            ca_file=str(ca_file),
            device_model={**FAST_RETRY, **device_model},
        )
        station = Station(config)
        self.stations.append(station)
        await station.start()
        return station


@pytest.fixture
async def rig(short_tmp: Path) -> AsyncIterator[Rig]:
    rig = Rig(short_tmp)
    yield rig
    for station in rig.stations:
        await station.stop()
    if rig.csms is not None:
        await rig.csms.stop()


async def test_installed_csms_root_is_trusted_on_the_next_connection(
    rig: Rig, short_tmp: Path
) -> None:
    old_root, new_root = make_ca("Old CSMS root"), make_ca("New CSMS root")
    ca_file, _ = old_root.write(short_tmp / "pki", "ca")
    csms = await rig.serve(issue_server(old_root))
    station = await rig.station(ca_file)
    await csms.wait_for(lambda: station.online, timeout=30)

    assert await install(csms, SID, "CSMSRootCertificate", new_root.pem) == {"status": "Accepted"}
    # the configured root is an installed one too: deleted, it is no longer trusted
    assert await delete(csms, SID, hash_data(old_root, old_root)) == {"status": "Accepted"}

    # a CSMS still presenting a certificate of the deleted root is refused ...
    await rig.serve(issue_server(old_root))
    failed = station.transport.failed_attempts
    await rig.csms.wait_for(  # type: ignore[union-attr]
        lambda: station.transport.failed_attempts >= failed + 2, timeout=60
    )
    assert rig.csms is not None and rig.csms.connections == 0
    # ... one whose certificate chains to the installed root is not
    csms = await rig.serve(issue_server(new_root))
    await csms.wait_connected(SID, timeout=60)
    await csms.wait_for(lambda: station.online, timeout=30)
    answer = await listed(csms, SID, "CSMSRootCertificate")
    assert chain_set(answer) == entries(("CSMSRootCertificate", hash_data(new_root, new_root)))


async def test_additional_root_certificate_check_keeps_a_fallback_until_the_new_root_works(
    rig: Rig, short_tmp: Path
) -> None:
    old_root = make_ca("Old CSMS root")
    successor = make_ca("Successor CSMS root", issuer=old_root)  # signed by the old one
    ca_file, _ = old_root.write(short_tmp / "pki", "ca")
    csms = await rig.serve(issue_server(old_root))
    station = await rig.station(ca_file, **{"SecurityCtrlr.AdditionalRootCertificateCheck": True})
    await csms.wait_for(lambda: station.online, timeout=30)

    stranger = await install(csms, SID, "CSMSRootCertificate", make_ca("Stranger").pem)
    assert stranger["status"] == "Rejected"  # M05.FR.11
    assert stranger["statusInfo"]["reasonCode"] == "NotSignedByOldRoot"
    assert await install(csms, SID, "CSMSRootCertificate", successor.pem) == {
        "status": "Accepted"
    }  # M05.FR.12: the new root, the old one kept as the fallback
    both = entries(
        ("CSMSRootCertificate", hash_data(successor, old_root)),
        ("CSMSRootCertificate", hash_data(old_root, old_root)),
    )
    assert chain_set(await listed(csms, SID)) == both

    # a reconnect to a CSMS whose certificate the old root still verifies keeps the fallback
    before = csms.connections
    await csms.drop(SID)
    await csms.wait_for(lambda: csms.connections > before and SID in csms.links, timeout=60)
    assert chain_set(await listed(csms, SID)) == both

    # M05.FR.13: connected with the new root, the fallback goes
    csms = await rig.serve(issue_server(successor))
    await csms.wait_connected(SID, timeout=60)
    assert chain_set(await listed(csms, SID)) == entries(
        ("CSMSRootCertificate", hash_data(successor, old_root))
    )
    # M05.FR.17: installed again (its issuer gone), it replaces itself
    assert await install(csms, SID, "CSMSRootCertificate", successor.pem) == {"status": "Accepted"}
    assert chain_set(await listed(csms, SID)) == entries(
        ("CSMSRootCertificate", hash_data(successor, old_root))
    )
    # M05.FR.09: one CSMS root at a time: the next successor replaces it
    third = make_ca("Third CSMS root", issuer=successor)
    assert await install(csms, SID, "CSMSRootCertificate", third.pem) == {"status": "Accepted"}
    assert chain_set(await listed(csms, SID)) == entries(
        ("CSMSRootCertificate", hash_data(third, successor)),
        ("CSMSRootCertificate", hash_data(successor, old_root)),
    )


async def test_installed_manufacturer_root_verifies_firmware_signing_certificates(
    csms: LocalCSMS, short_tmp: Path
) -> None:
    """L01.FR.22 against the installed ManufacturerRootCertificates (no manufacturer_root in
    the config): refused before the root is installed and after it is deleted."""
    signing = make_signing_pki(short_tmp / "manufacturer")
    root = signing.root_file.read_text()
    station = Station(station_config(csms.url, short_tmp / "station"))
    await station.start()
    try:
        await csms.wait_for(lambda: station.online, timeout=30)

        async def update(request_id: int) -> str:
            payload = {
                "requestId": request_id,
                "retries": 0,
                "firmware": {
                    "location": free_port_url("/fw.bin"),
                    "retrieveDateTime": iso(time.time()),
                    "signingCertificate": signing.certificate_pem,
                    "signature": signing.sign(b"image"),
                },
            }
            return str((await csms.send(SID, "UpdateFirmware", payload))["status"])

        assert await update(1) == "InvalidCertificate"
        answer = await install(csms, SID, "ManufacturerRootCertificate", root)
        assert answer == {"status": "Accepted"}
        assert await update(2) == "Accepted"
        await csms.wait_for(
            lambda: any(
                p["status"] == "DownloadFailed" for p in csms.received("FirmwareStatusNotification")
            ),
            timeout=30,
        )
        (listed_root,) = (await listed(csms, SID))["certificateHashDataChain"]
        assert await delete(csms, SID, listed_root["certificateHashData"]) == {"status": "Accepted"}
        assert await update(3) == "InvalidCertificate"
    finally:
        await station.stop()


async def test_a_migration_is_verified_by_the_new_root_alone_m05_fr_15_16(
    rig: Rig, short_tmp: Path
) -> None:
    """TC_B_47 then TC_B_50: under AdditionalRootCertificateCheck, a new CSMS root signed by
    the old one.  Migrating to another slot's CSMS, the new root alone verifies it (M05.FR.15);
    refused there after NetworkProfileConnectionAttempts, the station goes back to the slot that
    worked and the fallback root verifies that CSMS again (M05.FR.16)."""
    old_root = make_ca("Old CSMS root")
    successor = make_ca("Successor CSMS root", issuer=old_root)
    ca_file, _ = old_root.write(short_tmp / "pki", "ca")
    csms = await rig.serve(issue_server(old_root))
    station = await rig.station(
        ca_file,
        **{
            "SecurityCtrlr.AdditionalRootCertificateCheck": True,
            "OCPPCommCtrlr.NetworkProfileConnectionAttempts": 1,
        },
    )
    await csms.wait_for(lambda: station.online, timeout=30)
    assert await install(csms, SID, "CSMSRootCertificate", successor.pem) == {"status": "Accepted"}
    both = entries(
        ("CSMSRootCertificate", hash_data(successor, old_root)),
        ("CSMSRootCertificate", hash_data(old_root, old_root)),
    )

    other = Rig(short_tmp / "b")
    csms_b = await other.serve(issue_server(old_root))  # B still shows the old root's certificate
    try:
        connection = {
            "ocppVersion": "OCPP20",
            "ocppTransport": "JSON",
            "ocppCsmsUrl": csms_b.url,
            "messageTimeout": 20,
            "securityProfile": 2,
            "ocppInterface": "Wired0",
        }
        answer = await csms.send(
            SID, "SetNetworkProfile", {"configurationSlot": 1, "connectionData": connection}
        )
        assert answer == {"status": "Accepted"}
        priority = {
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "NetworkConfigurationPriority"},
            "attributeValue": "1,0",
        }
        result = await csms.send(SID, "SetVariables", {"setVariableData": [priority]})
        assert result["setVariableResult"][0]["attributeStatus"] == "Accepted"
        assert (await csms.send(SID, "Reset", {"type": "OnIdle"}))["status"] == "Accepted"

        def boots(server: LocalCSMS) -> list[str]:
            return [b["reason"] for b in server.received("BootNotification", SID)]

        # refused at B (new root only), back at A (the fallback root verifies it)
        await csms.wait_for(
            lambda: boots(csms) == ["PowerUp", "RemoteReset"] and station.online, timeout=60
        )
        assert csms_b.connections == 0
        assert chain_set(await listed(csms, SID)) == both  # TC_B_47 step 12: the old root stays
        await csms.wait_for(
            lambda: any(
                e["type"] == "InvalidCsmsCertificate"
                for e in csms.received("SecurityEventNotification", SID)
            ),
            timeout=30,
        )

        # TC_B_50: B now shows a certificate of the new root: the migration succeeds and the
        # fallback root goes (M05.FR.13)
        csms_b = await other.serve(issue_server(successor))
        assert (await csms.send(SID, "Reset", {"type": "OnIdle"}))["status"] == "Accepted"
        await csms_b.wait_for(lambda: boots(csms_b) == ["RemoteReset"] and station.online, 60)
        assert chain_set(await listed(csms_b, SID)) == entries(
            ("CSMSRootCertificate", hash_data(successor, old_root))
        )
    finally:
        if other.csms is not None:
            await other.csms.stop()
