"""A throw-away test PKI (``cryptography``): CA, server and client certificates, a second CA.

Reusable by any test that needs TLS (security profiles 2 and 3)::

    pki = make_pki(tmp_path)
    server_ctx = pki.server_ssl_context(require_client_cert=True)
    TransportConfig(..., ca_file=str(pki.ca_cert), cert_file=str(pki.client_cert), ...)

EC P-256 keys keep generation fast (a few milliseconds per key).
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Pki:
    ca_cert: Path  # the CSMS root: what a station's ca_file points at
    ca_key: Path
    server_cert: Path  # for 127.0.0.1 / localhost, signed by ca
    server_key: Path
    client_cert: Path  # the station certificate, signed by ca
    client_key: Path
    other_ca_cert: Path  # an unrelated CA: the "wrong CA" for negative tests
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


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str, organization: str = "ocpp-station tests") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        ]
    )


def _ca(common_name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
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
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _leaf(
    common_name: str,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey],
    *,
    server: bool,
    organization: str = "ocpp-station tests",
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    ca_cert, ca_key = issuer
    key = _key()
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, organization))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if server:
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
    return builder.sign(ca_key, hashes.SHA256()), key


def _write(
    directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> tuple[Path, Path]:
    cert_path = directory / f"{stem}.pem"
    key_path = directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def make_pki(directory: Path, station_id: str = "CS001", organization: str = "ExampleCPO") -> Pki:
    """Write a fresh test PKI into ``directory`` (created if needed) and return its paths.

    The client (station) certificate has CN = ``station_id`` and O = ``organization``, as
    OCPP 2.0.1 Part 2 A00 asks of a Charging Station certificate.
    """
    directory.mkdir(parents=True, exist_ok=True)
    ca = _ca("ocpp-station test CSMS root")
    other_ca = _ca("unrelated test root")
    server = _leaf("localhost", ca, server=True)
    client = _leaf(station_id, ca, server=False, organization=organization)
    other_client = _leaf(station_id, other_ca, server=False, organization=organization)
    ca_cert, ca_key = _write(directory, "ca", *ca)
    other_ca_cert, other_ca_key = _write(directory, "other_ca", *other_ca)
    server_cert, server_key = _write(directory, "server", *server)
    client_cert, client_key = _write(directory, "client", *client)
    other_client_cert, other_client_key = _write(directory, "other_client", *other_client)
    return Pki(
        ca_cert=ca_cert,
        ca_key=ca_key,
        server_cert=server_cert,
        server_key=server_key,
        client_cert=client_cert,
        client_key=client_key,
        other_ca_cert=other_ca_cert,
        other_ca_key=other_ca_key,
        other_client_cert=other_client_cert,
        other_client_key=other_client_key,
    )
