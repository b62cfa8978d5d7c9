"""Shared test PKI helpers (``cryptography``): CAs, a CSMS server certificate for
localhost/127.0.0.1, station client certificates, PEM and file helpers, TLS server contexts.

    root = make_ca("CSMS root")
    server = issue_server(root)
    client = issue_client(root, "CS001", organization="ExampleCPO")
    ctx = server_context(server, client_ca=root)     # mutual TLS with client_ca

EC P-256 keys by default (fast); ``rsa=True`` for an RSA 2048 key.  Every object keeps its key,
so a test can sign with it (a new root signed by the old one, a sub-CA, ...).
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa as rsa_keys
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

if TYPE_CHECKING:
    from ocpp_station.csms import LocalCSMS

PrivateKey = ec.EllipticCurvePrivateKey | rsa_keys.RSAPrivateKey
DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Issued:
    certificate: x509.Certificate
    key: PrivateKey

    @property
    def pem(self) -> str:
        return cert_pem(self.certificate)

    @property
    def key_pem(self) -> str:
        return key_pem(self.key)

    def write(self, directory: Path, stem: str) -> tuple[Path, Path]:
        """``<stem>.pem`` and ``<stem>.key`` (0600) in ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        cert_path = directory / f"{stem}.pem"
        key_path = directory / f"{stem}.key"
        cert_path.write_text(self.pem)
        key_path.write_text(self.key_pem)
        key_path.chmod(0o600)
        return cert_path, key_path


def cert_pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def key_pem(key: PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def new_key(rsa: bool = False) -> PrivateKey:
    if rsa:
        return rsa_keys.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def name(common_name: str, organization: str = "ocpp-station tests") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        ]
    )


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def make_ca(
    common_name: str,
    *,
    issuer: Issued | None = None,
    key: PrivateKey | None = None,
    rsa: bool = False,
    ca: bool = True,
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
    serial: int | None = None,
) -> Issued:
    """A CA certificate: self-signed, or signed by ``issuer`` (a sub-CA, or a new root signed by
    the old one).  ``ca=False`` makes the same certificate without cA (for negative tests)."""
    key = key or new_key(rsa)
    subject = name(common_name)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(not_before or _now() - DAY)
        .not_valid_after(not_after or _now() + 3650 * DAY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    signer = issuer.key if issuer else key
    return Issued(builder.sign(signer, hashes.SHA256()), key)


def _leaf(
    subject: x509.Name, issuer: Issued, usage: x509.ObjectIdentifier, *, rsa: bool = False
) -> tuple[x509.CertificateBuilder, PrivateKey]:
    key = new_key(rsa)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - DAY)
        .not_valid_after(_now() + 365 * DAY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    )
    return builder, key


def issue_server(issuer: Issued, common_name: str = "localhost") -> Issued:
    """A CSMS server certificate for localhost, 127.0.0.1 and ::1."""
    builder, key = _leaf(name(common_name), issuer, ExtendedKeyUsageOID.SERVER_AUTH)
    builder = builder.add_extension(
        x509.SubjectAlternativeName(
            [
                x509.DNSName("localhost"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.IPAddress(ipaddress.ip_address("::1")),
            ]
        ),
        critical=False,
    )
    return Issued(builder.sign(issuer.key, hashes.SHA256()), key)


def issue_client(issuer: Issued, station_id: str, organization: str = "ExampleCPO") -> Issued:
    """A station client certificate: CN = station id, O = the CSO (Part 2 A00)."""
    builder, key = _leaf(name(station_id, organization), issuer, ExtendedKeyUsageOID.CLIENT_AUTH)
    return Issued(builder.sign(issuer.key, hashes.SHA256()), key)


def server_context(
    server: Issued, directory: Path, *, client_ca: Issued | None = None
) -> ssl.SSLContext:
    """A TLS 1.2+ server context presenting ``server`` (files written to ``directory``); with
    ``client_ca`` the client must present a certificate it issued (mutual TLS, profile 3)."""
    cert_path, key_path = server.write(directory, "server")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_path, key_path)
    if client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cadata=client_ca.pem)
    return context


# -- certificate management (M03-M05) through a CSMS ----------------------------------------
def hash_data(subject: Issued, issuer: Issued) -> dict[str, str]:
    """CertificateHashDataType as Part 2 defines it: SHA-256 over the issuer's Name DER and the
    issuer's public key (the subjectPublicKey BIT STRING content: the EC point; the test keys
    are EC), the serial in hex without leading zeroes."""
    public = issuer.certificate.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    point = public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": hashlib.sha256(issuer.certificate.subject.public_bytes()).hexdigest(),
        "issuerKeyHash": hashlib.sha256(point).hexdigest(),
        "serialNumber": format(subject.certificate.serial_number, "x"),
    }


async def install(csms: LocalCSMS, sid: str, use: str, pem: str) -> dict[str, Any]:
    return await csms.send(sid, "InstallCertificate", {"certificateType": use, "certificate": pem})


async def listed(csms: LocalCSMS, sid: str, *uses: str) -> dict[str, Any]:
    payload: dict[str, Any] = {"certificateType": list(uses)} if uses else {}
    return await csms.send(sid, "GetInstalledCertificateIds", payload)


def chain_set(answer: dict[str, Any]) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    return sorted(
        (c["certificateType"], tuple(sorted(c["certificateHashData"].items())))
        for c in answer.get("certificateHashDataChain", [])
    )


def entries(*items: tuple[str, dict[str, str]]) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    return sorted((use, tuple(sorted(data.items()))) for use, data in items)


async def delete(csms: LocalCSMS, sid: str, data: dict[str, str]) -> dict[str, Any]:
    return await csms.send(sid, "DeleteCertificate", {"certificateHashData": data})
