"""Certificate management (M03 GetInstalledCertificateIds, M04 DeleteCertificate, M05
InstallCertificate) against the ``ocpp``-package CSMS, with certificates made in the test.  The
hash data is recomputed here with ``cryptography`` primitives, independently of the station."""

from __future__ import annotations

import datetime
import hashlib
import stat
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from pki import DAY, chain_set, delete, entries, hash_data, install, issue_client, listed, make_ca
from support import StationFactory, variable

from ocpp_station import Station
from ocpp_station.csms import LocalCSMS

NOW = datetime.datetime.now(datetime.UTC)


async def online(csms: LocalCSMS, make_station: StationFactory, **kwargs: Any) -> Station:
    station = await make_station(**kwargs)
    await csms.wait_for(lambda: station.online, timeout=30)
    return station


async def test_install_list_delete_and_restart(
    csms: LocalCSMS, make_station: StationFactory, short_tmp: Path
) -> None:
    station = await online(csms, make_station)
    sid = station.config.id
    events: list[dict[str, Any]] = []
    station.subscribe(
        lambda topic, data: events.append(data) if topic == "security_event" else None
    )
    assert await listed(csms, sid) == {"status": "NotFound"}  # M03.FR.02
    assert await variable(csms, sid, "SecurityCtrlr", "CertificateEntries") == "0"

    csms_root, manufacturer = make_ca("CSMS root"), make_ca("Manufacturer root")
    v2g, mo = make_ca("V2G root"), make_ca("MO root")
    sub = make_ca("MO sub-CA", issuer=mo)
    for use, ca in (
        ("CSMSRootCertificate", csms_root),
        ("ManufacturerRootCertificate", manufacturer),
        ("V2GRootCertificate", v2g),
        ("MORootCertificate", mo),
        ("MORootCertificate", sub),  # a sub-CA under an installed root
    ):
        assert await install(csms, sid, use, ca.pem) == {"status": "Accepted"}, use
    # M05.FR.17: the same certificate again replaces it, it is not counted twice
    assert await install(csms, sid, "CSMSRootCertificate", csms_root.pem) == {"status": "Accepted"}
    assert await variable(csms, sid, "SecurityCtrlr", "CertificateEntries") == "5"

    everything = entries(
        ("CSMSRootCertificate", hash_data(csms_root, csms_root)),
        ("ManufacturerRootCertificate", hash_data(manufacturer, manufacturer)),
        ("V2GRootCertificate", hash_data(v2g, v2g)),
        ("MORootCertificate", hash_data(mo, mo)),
        ("MORootCertificate", hash_data(sub, mo)),
    )
    answer = await listed(csms, sid)
    assert answer["status"] == "Accepted"  # M03.FR.03
    assert chain_set(answer) == everything  # M03.FR.04
    filtered = await listed(csms, sid, "CSMSRootCertificate", "ManufacturerRootCertificate")
    assert chain_set(filtered) == entries(
        ("CSMSRootCertificate", hash_data(csms_root, csms_root)),
        ("ManufacturerRootCertificate", hash_data(manufacturer, manufacturer)),
    )
    assert await listed(csms, sid, "V2GCertificateChain") == {"status": "NotFound"}

    # M04: delete by hash data; once gone, NotFound
    assert await delete(csms, sid, hash_data(v2g, v2g)) == {"status": "Accepted"}
    assert await delete(csms, sid, hash_data(v2g, v2g)) == {"status": "NotFound"}
    assert await listed(csms, sid, "V2GRootCertificate") == {"status": "NotFound"}
    assert await variable(csms, sid, "SecurityCtrlr", "CertificateEntries") == "4"
    # every change of the trusted roots is a security event of the security log (a change of
    # security parameters, not a critical one: nothing is sent to the CSMS)
    changes = [e for e in events if e["type"] == "ReconfigurationOfSecurityParameters"]
    assert [e["techInfo"].split(" (")[0] for e in changes] == [
        "CSMSRootCertificate installed",
        "ManufacturerRootCertificate installed",
        "V2GRootCertificate installed",
        "MORootCertificate installed",
        "MORootCertificate installed",
        "CSMSRootCertificate installed",
        "V2GRootCertificate deleted",
    ]
    assert not any(e["critical"] for e in changes)
    assert not [
        n
        for n in csms.received("SecurityEventNotification", sid)
        if n["type"] == "ReconfigurationOfSecurityParameters"
    ]

    # the files: 0700 folders, 0600 files, named by the SHA-256 of the DER
    roots = station.config.data_dir / "certs" / "roots"
    der = csms_root.certificate.public_bytes(serialization.Encoding.DER)
    root_file = roots / "CSMSRootCertificate" / f"{hashlib.sha256(der).hexdigest()}.pem"
    assert root_file.is_file()
    assert stat.S_IMODE(root_file.stat().st_mode) == 0o600
    for folder in (roots.parent, roots, roots / "CSMSRootCertificate"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700

    # a restart keeps them
    await station.stop()
    again = await online(csms, make_station, station_id=sid, data_dir=station.config.data_dir)
    assert again is not station
    after = await listed(csms, sid)
    assert chain_set(after) == [e for e in everything if e[0] != "V2GRootCertificate"]
    assert await variable(csms, sid, "SecurityCtrlr", "CertificateEntries") == "4"


async def test_bad_certificates_are_rejected_with_a_reason(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await online(csms, make_station)
    sid = station.config.id
    good = make_ca("Good root")
    cases = {
        "InvalidFormat": "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
        "Expired": make_ca("Old", not_before=NOW - 30 * DAY, not_after=NOW - DAY).pem,
        "NotYetValid": make_ca("Soon", not_before=NOW + DAY, not_after=NOW + 30 * DAY).pem,
        "NotCA": issue_client(good, "CS999").pem,
        "UnknownIssuer": make_ca("Orphan sub-CA", issuer=make_ca("Unknown root")).pem,
    }
    for reason, pem in cases.items():
        answer = await install(csms, sid, "CSMSRootCertificate", pem)
        assert answer["status"] == "Rejected", reason  # M05.FR.07
        assert answer["statusInfo"]["reasonCode"] == reason
    assert await listed(csms, sid) == {"status": "NotFound"}
    assert await variable(csms, sid, "SecurityCtrlr", "CertificateEntries") == "0"
    # nothing broke: a good one still goes in
    assert await install(csms, sid, "CSMSRootCertificate", good.pem) == {"status": "Accepted"}


async def test_station_certificate_cannot_be_deleted(
    csms: LocalCSMS, make_station: StationFactory, short_tmp: Path
) -> None:
    """M04.FR.06: DeleteCertificate naming the station's own certificate answers Failed."""
    ca = make_ca("Station CA")
    client = issue_client(ca, "CS001")
    cert_file, key_file = client.write(short_tmp / "pki", "client")
    station = await online(csms, make_station, cert_file=str(cert_file), key_file=str(key_file))
    sid = station.config.id
    assert await install(csms, sid, "CSMSRootCertificate", ca.pem) == {"status": "Accepted"}
    answer = await delete(csms, sid, hash_data(client, ca))
    assert answer["status"] == "Failed"
    assert answer["statusInfo"]["reasonCode"] == "StationCertificate"
    assert cert_file.read_text() == client.pem
    # its issuer, an installed root, may go (M04 remark: even the last CSMS root)
    assert await delete(csms, sid, hash_data(ca, ca)) == {"status": "Accepted"}


async def test_configured_roots_are_imported_once(
    csms: LocalCSMS, make_station: StationFactory, short_tmp: Path
) -> None:
    """The config's ca_file and [firmware] manufacturer_root are installed certificates too: the
    CSMS sees and may delete them, and a deleted one stays deleted after a restart."""
    folder = short_tmp / "pki"
    root, manufacturer = make_ca("Configured CSMS root"), make_ca("Configured manufacturer")
    ca_file, _ = root.write(folder, "ca")
    station = await online(csms, make_station, ca_file=str(ca_file))
    sid = station.config.id
    answer = await listed(csms, sid)
    assert chain_set(answer) == entries(("CSMSRootCertificate", hash_data(root, root)))
    assert await delete(csms, sid, hash_data(root, root)) == {"status": "Accepted"}
    await station.stop()

    manufacturer_file, _ = manufacturer.write(folder, "manufacturer")
    again = await make_station(
        start=False, station_id=sid, data_dir=station.config.data_dir, ca_file=str(ca_file)
    )
    again.config.manufacturer_root = manufacturer_file
    await again.start()
    await csms.wait_for(lambda: again.online, timeout=30)
    answer = await listed(csms, sid)
    assert chain_set(answer) == entries(
        ("ManufacturerRootCertificate", hash_data(manufacturer, manufacturer))
    )


async def test_certificate_entries_max_limit(csms: LocalCSMS, make_station: StationFactory) -> None:
    """M05.FR.06: once CertificateEntries reaches its maxLimit (100) a new certificate is
    Rejected; replacing an installed one still works."""
    station = await online(csms, make_station)
    sid = station.config.id
    roots = [make_ca(f"Root {n}") for n in range(100)]
    for n, root in enumerate(roots):
        use = "MORootCertificate" if n % 2 else "V2GRootCertificate"
        assert await install(csms, sid, use, root.pem) == {"status": "Accepted"}, n
    assert await variable(csms, sid, "SecurityCtrlr", "CertificateEntries") == "100"
    full = await install(csms, sid, "CSMSRootCertificate", make_ca("One too many").pem)
    assert (full["status"], full["statusInfo"]["reasonCode"]) == ("Rejected", "MaxEntries")
    again = await install(csms, sid, "MORootCertificate", roots[1].pem)
    assert again == {"status": "Accepted"}
    assert await variable(csms, sid, "SecurityCtrlr", "CertificateEntries") == "100"
