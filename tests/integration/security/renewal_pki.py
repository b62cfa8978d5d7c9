"""Test PKI for the certificate renewal tests (A02/A03): a CA signing a station's CSR, made with
``cryptography`` on top of the shared throw-away PKI of ``tests/certs.py``."""

from __future__ import annotations

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import NameOID


def load_ca(cert: Path, key: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    ca_key = serialization.load_pem_private_key(key.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    return x509.load_pem_x509_certificate(cert.read_bytes()), ca_key


def issue(
    ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey],
    public_key: PublicKeyTypes,
    subject: x509.Name,
    *,
    not_before: datetime.datetime | None = None,
    days: float = 365,
    ca_cert: bool = False,
) -> x509.Certificate:
    """A certificate for ``public_key`` signed by ``ca`` (a CA certificate with ``ca_cert``)."""
    issuer_cert, issuer_key = ca
    start = not_before or datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca_cert, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if ca_cert:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        ).add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def sign_csr(
    csr_pem: str,
    ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey],
    **kwargs: object,
) -> x509.Certificate:
    """What the CSO's CA does with the station's CSR: the subject and key as requested."""
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    assert csr.is_signature_valid
    return issue(ca, csr.public_key(), csr.subject, **kwargs)  # type: ignore[arg-type]


def pem(*certs: x509.Certificate) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certs)


def name(common_name: str, organization: str = "ExampleCPO") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        ]
    )
