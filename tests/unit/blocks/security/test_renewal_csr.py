"""The key pair and CSR of a certificate renewal (A02.FR.02/03, A00.FR.5xx)."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID, NameOID

from ocpp_station.blocks.security.csr import (
    CsrError,
    build_csr,
    key_from_pem,
    key_to_pem,
    new_key,
)


def test_csr_names_the_station_and_the_organization_and_carries_the_key() -> None:
    key = new_key()
    pem = build_csr(key, "CS001", "ExampleCPO")
    assert pem.startswith("-----BEGIN CERTIFICATE REQUEST-----")  # A02.FR.03: PEM
    assert len(pem) <= 5500  # SignCertificateRequest.csr is string[0..5500]
    csr = x509.load_pem_x509_csr(pem.encode())
    assert csr.is_signature_valid
    assert [a.value for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == ["CS001"]
    assert [a.value for a in csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == [
        "ExampleCPO"
    ]
    assert csr.public_key() == key.public_key()
    public = csr.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert public.curve.key_size >= 224  # A00.FR.503
    # A00.FR.511 note / A00.FR.514: no subjectAltName, no extended key usage
    oids = {ext.oid for ext in csr.extensions}
    assert ExtensionOID.SUBJECT_ALTERNATIVE_NAME not in oids
    assert ExtensionOID.EXTENDED_KEY_USAGE not in oids
    assert ExtensionOID.KEY_USAGE in oids  # A00.FR.512


def test_every_key_is_new() -> None:
    assert new_key().public_key() != new_key().public_key()


def test_key_round_trips_through_pem() -> None:
    key = new_key()
    assert key_from_pem(key_to_pem(key)).public_key() == key.public_key()


@pytest.mark.parametrize(
    ("cn", "org", "message"),
    [
        ("CS001", "", "OrganizationName"),
        ("", "ExampleCPO", "Identity"),
        ("CS001", "x" * 65, "64"),
    ],
)
def test_csr_without_a_required_name_is_refused(cn: str, org: str, message: str) -> None:
    with pytest.raises(CsrError, match=message):
        build_csr(new_key(), cn, org)
