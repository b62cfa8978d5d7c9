"""The one test PKI (``cryptography``) of the test suite: CAs, a CSMS server certificate for
localhost/127.0.0.1, station client certificates, CSR signing (what the CSO's CA does in A02/A03),
PEM and file helpers, TLS server contexts, and the certificate-management CSMS calls (M03-M05).

    root = make_ca("CSMS root")
    server = issue_server(root)
    client = issue_client(root, "CS001", organization="ExampleCPO")
    ctx = server_context(server, directory, client_ca=root)   # mutual TLS with client_ca
    leaf = sign_csr(csr_pem, root)                             # CertificateSigned's chain

    pki = make_pki(tmp_path)        # the same, written to files: ca, server, client, other_ca ...
    TransportConfig(..., ca_file=str(pki.ca_cert), cert_file=str(pki.client_cert), ...)

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
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
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


def _key_usage(ca: bool) -> x509.KeyUsage:
    """Digital signature; certificate and CRL signing for a CA."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


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
        .add_extension(_key_usage(ca), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    signer = issuer.key if issuer else key
    return Issued(builder.sign(signer, hashes.SHA256()), key)


def issue_leaf(
    issuer: Issued,
    subject: x509.Name,
    usage: x509.ObjectIdentifier,
    *,
    rsa: bool = False,
    days: float = 366,
    hosts: list[str] | None = None,
) -> Issued:
    """An end-entity certificate with a new key, signed by ``issuer``, for ``usage`` (an
    extended key usage), valid from a day ago for ``days`` days (less than 1: expired);
    ``hosts`` become its subjectAltName (DNS names and IP addresses)."""
    key = new_key(rsa)
    start = _now() - DAY
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + days * DAY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    )
    if hosts:
        alt_names = x509.SubjectAlternativeName(_alt_names(hosts))
        builder = builder.add_extension(alt_names, critical=False)
    return Issued(builder.sign(issuer.key, hashes.SHA256()), key)


def _alt_names(hosts: list[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def issue_server(
    issuer: Issued,
    common_name: str = "localhost",
    hosts: list[str] | None = None,
) -> Issued:
    """A CSMS server certificate, by default for localhost, 127.0.0.1 and ::1."""
    return issue_leaf(
        issuer,
        name(common_name),
        ExtendedKeyUsageOID.SERVER_AUTH,
        hosts=hosts or ["localhost", "127.0.0.1", "::1"],
    )


def issue_client(issuer: Issued, station_id: str, organization: str = "ExampleCPO") -> Issued:
    """A station client certificate: CN = station id, O = the CSO (Part 2 A00)."""
    return issue_leaf(issuer, name(station_id, organization), ExtendedKeyUsageOID.CLIENT_AUTH)


def issue(
    issuer: Issued,
    public_key: CertificatePublicKeyTypes,
    subject: x509.Name,
    *,
    not_before: datetime.datetime | None = None,
    days: float = 365,
    ca_cert: bool = False,
) -> x509.Certificate:
    """A certificate for someone else's ``public_key`` (a CSR's, a station's), signed by
    ``issuer``; a CA certificate with ``ca_cert``."""
    start = not_before or _now() - datetime.timedelta(hours=1)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + days * DAY)
        .add_extension(x509.BasicConstraints(ca=ca_cert, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    )
    if ca_cert:
        builder = builder.add_extension(_key_usage(True), critical=True).add_extension(
            x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False
        )
    return builder.sign(issuer.key, hashes.SHA256())


def sign_csr(csr_pem: str, issuer: Issued, **kwargs: Any) -> x509.Certificate:
    """What the CSO's CA does with the station's CSR (A02/A03): the subject and key as asked."""
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    assert csr.is_signature_valid
    return issue(issuer, csr.public_key(), csr.subject, **kwargs)


def pem(*certs: x509.Certificate) -> str:
    """A PEM chain (leaf first, as CertificateSigned carries it)."""
    return "".join(cert_pem(c) for c in certs)


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


# -- a whole PKI in files (TLS tests, security profiles 2 and 3) ------------------------------
@dataclass(frozen=True)
class Pki:
    ca: Issued  # the CSMS root: what a station's ca_file points at
    other_ca: Issued  # an unrelated CA: the "wrong CA" for negative tests
    ca_cert: Path
    ca_key: Path
    server_cert: Path  # for 127.0.0.1 / localhost, signed by ca
    server_key: Path
    client_cert: Path  # the station certificate, signed by ca
    client_key: Path
    other_ca_cert: Path
    other_ca_key: Path
    other_client_cert: Path  # a client certificate signed by the unrelated CA
    other_client_key: Path

    def server_ssl_context(self, require_client_cert: bool = False) -> ssl.SSLContext:
        """TLS 1.2+ server context with the server certificate; with ``require_client_cert``
        the client must present a certificate signed by ``ca_cert`` (mutual TLS, profile 3)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.server_cert, self.server_key)
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(cafile=self.ca_cert)
        return context

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context trusting ``ca_cert`` (for test CSMS clients, not the station)."""
        context = ssl.create_default_context(cafile=str(self.ca_cert))
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context


def make_pki(directory: Path, station_id: str = "CS001", organization: str = "ExampleCPO") -> Pki:
    """A fresh PKI written into ``directory`` (created if needed): ``ca``, ``server``,
    ``client`` (CN = ``station_id``, O = ``organization``, as Part 2 A00 asks of a station
    certificate), ``other_ca`` and ``other_client`` (``.pem`` and ``.key``, keys 0600)."""
    ca = make_ca("ocpp-station test CSMS root")
    other_ca = make_ca("unrelated test root")
    ca_cert, ca_key = ca.write(directory, "ca")
    other_ca_cert, other_ca_key = other_ca.write(directory, "other_ca")
    server_cert, server_key = issue_server(ca).write(directory, "server")
    client_cert, client_key = issue_client(ca, station_id, organization).write(directory, "client")
    other_cert, other_key = issue_client(other_ca, station_id, organization).write(
        directory, "other_client"
    )
    return Pki(
        ca=ca,
        other_ca=other_ca,
        ca_cert=ca_cert,
        ca_key=ca_key,
        server_cert=server_cert,
        server_key=server_key,
        client_cert=client_cert,
        client_key=client_key,
        other_ca_cert=other_ca_cert,
        other_ca_key=other_ca_key,
        other_client_cert=other_cert,
        other_client_key=other_key,
    )


# -- certificate management (M03-M05) through a CSMS ----------------------------------------
def hash_data(subject: Issued | x509.Certificate, issuer: Issued) -> dict[str, str]:
    """CertificateHashDataType as Part 2 defines it: SHA-256 over the issuer's Name DER and the
    issuer's public key (the subjectPublicKey BIT STRING content: the EC point; the test keys
    are EC), the serial in hex without leading zeroes."""
    certificate = subject.certificate if isinstance(subject, Issued) else subject
    public = issuer.certificate.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    point = public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": hashlib.sha256(issuer.certificate.subject.public_bytes()).hexdigest(),
        "issuerKeyHash": hashlib.sha256(point).hexdigest(),
        "serialNumber": format(certificate.serial_number, "x"),
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
