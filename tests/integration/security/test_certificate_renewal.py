"""Client certificate renewal against the ``ocpp``-package CSMS (A02, A03), with a test PKI made by
``cryptography`` in the test: TriggerMessage, SignCertificate, CertificateSigned, and the mutual
TLS reconnect that presents the new certificate."""

from __future__ import annotations

import asyncio
import itertools
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pki import Pki, delete, hash_data, issue, make_pki, name, pem, sign_csr
from support import station_config

from ocpp_station import Station
from ocpp_station.blocks.security.csr import key_to_pem
from ocpp_station.csms import LocalCSMS

ORG = "ExampleCPO"
TRIGGER = {"requestedMessage": "SignChargingStationCertificate"}


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "pki", station_id="CS001", organization=ORG)


@pytest.fixture
async def stations() -> AsyncIterator[list[Station]]:
    running: list[Station] = []
    yield running
    for station in running:
        await station.stop()


@pytest.fixture
async def tls_csms(pki: Pki) -> AsyncIterator[LocalCSMS]:
    """Profile 3: the CSMS requires a client certificate from the test CA (mutual TLS)."""
    server = LocalCSMS(ssl_context=pki.server_ssl_context(require_client_cert=True))
    await server.start()
    yield server
    await server.stop()


def peer_serial(csms: LocalCSMS, sid: str = "CS001") -> int | None:
    """The serial number of the client certificate of the station's current TLS connection."""
    link = csms.links.get(sid)
    if link is None:
        return None
    ssl_object = link._connection.transport.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    return None if der is None else x509.load_der_x509_certificate(der).serial_number


async def set_security(csms: LocalCSMS, **values: str) -> list[str]:
    """SetVariables of SecurityCtrlr variables from the CSMS; the attribute statuses."""
    data = [
        {
            "component": {"name": "SecurityCtrlr"},
            "variable": {"name": variable},
            "attributeValue": value,
        }
        for variable, value in values.items()
    ]
    result = await csms.send("CS001", "SetVariables", {"setVariableData": data})
    return [r["attributeStatus"] for r in result["setVariableResult"]]


async def _start(stations: list[Station], config: Any) -> Station:
    station = Station(config)
    stations.append(station)
    await station.start()
    return station


def _profile3(csms: LocalCSMS, pki: Pki, data: Path, **kw: Any) -> Any:
    device_model = {"SecurityCtrlr.OrganizationName": ORG, **kw.pop("device_model", {})}
    return station_config(
        csms.url,
        data,
        security_profile=3,
        ca_file=str(kw.pop("ca_file", pki.ca_cert)),
        cert_file=str(kw.pop("cert_file", pki.client_cert)),
        key_file=str(kw.pop("key_file", pki.client_key)),
        device_model=device_model,
        **kw,
    )


def _text(pki: Pki) -> str:
    return pki.client_cert.read_text()


async def _csr(csms: LocalCSMS, count: int = 1) -> str:
    requests = await csms.wait_received("SignCertificate", count, "CS001", timeout=20)
    assert requests[-1]["certificateType"] == "ChargingStationCertificate"
    csr: str = requests[-1]["csr"]
    return csr


async def test_a02_renewal_reconnects_with_the_new_certificate(
    pki: Pki, tls_csms: LocalCSMS, short_tmp: Path, stations: list[Station]
) -> None:
    csms = tls_csms
    factory = x509.load_pem_x509_certificate(pki.client_cert.read_bytes())
    config = _profile3(csms, pki, short_tmp / "s")
    station = await _start(stations, config)
    await csms.wait_for(lambda: station.online, timeout=20)
    assert peer_serial(csms) == factory.serial_number

    assert (await csms.send("CS001", "TriggerMessage", TRIGGER))["status"] == "Accepted"
    csr = x509.load_pem_x509_csr((await _csr(csms)).encode())
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "CS001"
    assert csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == ORG
    station_dir = short_tmp / "s" / "certs" / "station"
    pending = station_dir / "pending-key.pem"
    assert stat.S_IMODE(pending.stat().st_mode) == 0o600  # A02.FR.05: the key stays here

    leaf = sign_csr(csr.public_bytes(serialization.Encoding.PEM).decode(), pki.ca)
    answer = await csms.send(
        "CS001",
        "CertificateSigned",
        {"certificateChain": pem(leaf), "certificateType": "ChargingStationCertificate"},
    )
    assert answer["status"] == "Accepted"
    # A02.FR.08: the station reconnects by itself and presents the new certificate
    await csms.wait_for(lambda: peer_serial(csms) == leaf.serial_number, timeout=30)
    await csms.wait_for(lambda: station.online, timeout=20)
    assert csms.connections == 2
    # A02.FR.10: once the new pair worked, the previous one is gone
    await csms.wait_for(lambda: not (station_dir / "previous-cert.pem").exists(), timeout=10)
    assert not (station_dir / "previous-key.pem").exists()
    assert stat.S_IMODE((station_dir / "key.pem").stat().st_mode) == 0o600
    renewal = station.status()["certificate_renewal"]
    assert renewal["phase"] == "Idle"
    assert renewal["certificate_serial"] == format(leaf.serial_number, "x")
    # TC_M_23 (M04.FR.06): the renewed certificate is the station's own: not deletable
    answer = await delete(csms, "CS001", hash_data(leaf, pki.ca))
    assert answer["status"] == "Failed"

    # a restart keeps the renewed certificate
    await station.stop()
    stations.remove(station)
    await _start(stations, config)
    await csms.wait_for(lambda: csms.connections == 3 and "CS001" in csms.links, timeout=20)
    assert peer_serial(csms) == leaf.serial_number


async def test_a02_chain_from_another_ca_or_for_another_key_is_rejected_a02_fr_07(
    pki: Pki, csms: LocalCSMS, short_tmp: Path, stations: list[Station]
) -> None:
    config = station_config(
        csms.url,
        short_tmp / "s",
        ca_file=str(pki.ca_cert),
        device_model={
            "SecurityCtrlr.OrganizationName": ORG,
            "SecurityCtrlr.CertSigningWaitMinimum": 1,
        },
    )
    station = await _start(stations, config)
    await csms.wait_for(lambda: station.online, timeout=20)
    # a certificate nobody asked for: no pending CSR
    answer = await csms.send("CS001", "CertificateSigned", {"certificateChain": _text(pki)})
    assert answer["status"] == "Rejected"
    assert answer["statusInfo"]["reasonCode"] == "NoPendingRequest"
    events = await _invalid_certificate_events(csms, 1)
    assert events[0]["type"] == "InvalidChargingStationCertificate"
    assert station.status()["certificate_renewal"]["phase"] == "Idle"

    assert (await csms.send("CS001", "TriggerMessage", TRIGGER))["status"] == "Accepted"
    csr = await _csr(csms)
    wrong_ca = sign_csr(csr, pki.other_ca)
    answer = await csms.send("CS001", "CertificateSigned", {"certificateChain": pem(wrong_ca)})
    assert answer["status"] == "Rejected"
    assert answer["statusInfo"]["reasonCode"] == "UntrustedChain"
    events = await _invalid_certificate_events(csms, 2)
    assert events[1]["type"] == "InvalidChargingStationCertificate"

    # a new trigger, and a chain for a key the station never made
    assert (await csms.send("CS001", "TriggerMessage", TRIGGER))["status"] == "Accepted"
    await _csr(csms, 2)
    stranger = ec.generate_private_key(ec.SECP256R1())
    other_key = issue(pki.ca, stranger.public_key(), name("CS001", ORG))
    answer = await csms.send("CS001", "CertificateSigned", {"certificateChain": pem(other_key)})
    assert answer["status"] == "Rejected"
    assert answer["statusInfo"]["reasonCode"] == "KeyMismatch"
    events = await _invalid_certificate_events(csms, 3)
    assert events[2]["type"] == "InvalidChargingStationCertificate"
    # nothing was installed
    assert not (short_tmp / "s" / "certs" / "station" / "cert.pem").exists()
    # A02.FR.20: no resend after a rejected certificate (CertSigningWaitMinimum is 1 s)
    before = len(csms.received("SignCertificate", "CS001"))
    await csms.wait_for(lambda: station.status()["certificate_renewal"]["phase"] == "Blocked")
    await asyncio.sleep(3.0)  # an absence: three CertSigningWaitMinimum periods pass
    assert len(csms.received("SignCertificate", "CS001")) == before == 2


async def test_sign_certificate_is_resent_with_doubling_waits_a02_fr_17_19(
    pki: Pki, csms: LocalCSMS, short_tmp: Path, stations: list[Station]
) -> None:
    # Accepted, but the certificate never comes (the CA is down).
    config = station_config(
        csms.url,
        short_tmp / "s",
        ca_file=str(pki.ca_cert),
        device_model={"SecurityCtrlr.OrganizationName": ORG},
    )
    station = await _start(stations, config)
    await csms.wait_for(lambda: station.online, timeout=20)
    # the CSMS sets the back-off (both ReadWrite)
    assert await set_security(csms, CertSigningWaitMinimum="1", CertSigningRepeatTimes="1") == [
        "Accepted",
        "Accepted",
    ]
    assert (await csms.send("CS001", "TriggerMessage", TRIGGER))["status"] == "Accepted"
    await csms.wait_for(
        lambda: station.status()["certificate_renewal"]["phase"] == "GaveUp", timeout=30
    )
    frames = [
        f
        for f in csms.frames
        if f.direction == "in" and f.kind == 2 and f.action == "SignCertificate"
    ]
    # TC_A_23: CertSigningRepeatTimes 1 is one doubling of the wait: the first request and two
    # resends (A02.FR.17-19)
    assert len(frames) == 3
    assert len({f.payload["csr"] for f in frames}) == 1  # the same CSR (A02.FR.17)
    gaps = [b.t - a.t for a, b in itertools.pairwise(frames)]
    assert gaps[0] >= 0.9 and gaps[1] >= 1.9  # 1 s, then doubled (A02.FR.18)

    # A02.FR.19: a trigger starts again, with a new key
    assert (await csms.send("CS001", "TriggerMessage", TRIGGER))["status"] == "Accepted"
    fresh = await _csr(csms, 4)
    assert fresh != frames[0].payload["csr"]


async def test_a_trigger_without_organization_name_is_rejected(
    pki: Pki, csms: LocalCSMS, short_tmp: Path, stations: list[Station]
) -> None:
    config = station_config(csms.url, short_tmp / "s", ca_file=str(pki.ca_cert))
    station = await _start(stations, config)
    await csms.wait_for(lambda: station.online, timeout=20)
    answer = await csms.send("CS001", "TriggerMessage", TRIGGER)
    assert answer["status"] == "Rejected"
    assert "OrganizationName" in answer["statusInfo"]["additionalInfo"]
    # once the CSMS sets it (ReadWrite), the trigger works
    assert await set_security(csms, OrganizationName="OtherCPO") == ["Accepted"]
    assert (await csms.send("CS001", "TriggerMessage", TRIGGER))["status"] == "Accepted"
    csr = x509.load_pem_x509_csr((await _csr(csms)).encode())
    assert csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "OtherCPO"


async def test_a03_station_renews_a_certificate_that_expires_within_a_month(
    pki: Pki, tls_csms: LocalCSMS, short_tmp: Path, stations: list[Station]
) -> None:
    csms = tls_csms
    ca = pki.ca
    key = ec.generate_private_key(ec.SECP256R1())
    soon = issue(ca, key.public_key(), name("CS001", ORG), days=10)
    cert_file, key_file = short_tmp / "soon.pem", short_tmp / "soon.key"
    cert_file.write_text(pem(soon))
    key_file.write_bytes(key_to_pem(key))
    key_file.chmod(0o600)
    config = _profile3(csms, pki, short_tmp / "s", cert_file=cert_file, key_file=key_file)
    station = await _start(stations, config)
    # A03.FR.02: nobody asked; the station sends a CSR by itself once it is online
    csr = await _csr(csms)
    assert station.online
    assert csms.received("TriggerMessage") == []
    leaf = sign_csr(csr, ca)
    answer = await csms.send("CS001", "CertificateSigned", {"certificateChain": pem(leaf)})
    assert answer["status"] == "Accepted"
    await csms.wait_for(lambda: peer_serial(csms) == leaf.serial_number, timeout=30)
    assert len(csms.received("SignCertificate", "CS001")) == 1  # the new one is good for a year


async def test_a02_fr_28_falls_back_when_the_new_certificate_does_not_connect(
    pki: Pki, tls_csms: LocalCSMS, short_tmp: Path, stations: list[Station]
) -> None:
    csms = tls_csms
    # The station trusts both roots; the CSMS accepts client certificates from the first only,
    # so a certificate from the second passes the station's checks but not the TLS handshake.
    both = short_tmp / "roots.pem"
    both.write_bytes(pki.ca_cert.read_bytes() + pki.other_ca_cert.read_bytes())
    factory = x509.load_pem_x509_certificate(pki.client_cert.read_bytes())
    config = _profile3(
        csms,
        pki,
        short_tmp / "s",
        ca_file=both,
        device_model={"OCPPCommCtrlr.RetryBackOffRepeatTimes": 0},
    )
    station = await _start(stations, config)
    await csms.wait_for(lambda: station.online, timeout=20)
    assert (await csms.send("CS001", "TriggerMessage", TRIGGER))["status"] == "Accepted"
    leaf = sign_csr(await _csr(csms), pki.other_ca)
    answer = await csms.send("CS001", "CertificateSigned", {"certificateChain": pem(leaf)})
    assert answer["status"] == "Accepted"
    # NetworkProfileConnectionAttempts (3) attempts with the new pair fail; then the old one
    await csms.wait_for(lambda: csms.connections == 2 and station.online, timeout=60)
    assert peer_serial(csms) == factory.serial_number
    # A02.FR.29: the CSMS learns that the renewed certificate was discarded
    await csms.wait_for(
        lambda: (
            "DiscardedRenewedClientCertificate"
            in [e["type"] for e in csms.received("SecurityEventNotification", "CS001")]
        ),
        timeout=20,
    )
    station_dir = short_tmp / "s" / "certs" / "station"
    cert = x509.load_pem_x509_certificate((station_dir / "cert.pem").read_bytes())
    assert cert.serial_number == factory.serial_number
    assert not (station_dir / "previous-cert.pem").exists()


async def _invalid_certificate_events(csms: LocalCSMS, count: int) -> list[dict[str, Any]]:
    """The SecurityEventNotifications other than the start's StartupOfTheDevice (A04), once
    ``count`` of them arrived."""

    def events() -> list[dict[str, Any]]:
        return [
            e
            for e in csms.received("SecurityEventNotification", "CS001")
            if e["type"] != "StartupOfTheDevice"
        ]

    await csms.wait_for(lambda: len(events()) >= count, timeout=10)
    return events()
