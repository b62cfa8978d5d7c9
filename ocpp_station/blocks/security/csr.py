"""Key pair and certificate signing request for the station certificate (A02/A03), pure.

The key is EC P-256 (secp256r1): A00.FR.501/503 ask for at least 112 bits of security, i.e. an
elliptic curve key of at least 224 bits, and the ECDHE-ECDSA cipher suites of A00.FR.422 need an
EC certificate.  The CSR (RFC 2986, PEM, A02.FR.03) names the station in CN (A00.FR.511) and the
operator in O (A00.FR.509, ``SecurityCtrlr.OrganizationName``); it carries no subjectAltName
(A00.FR.511 note) and no extended key usage (A00.FR.514), and is signed with SHA-256 (A00.FR.506).
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CN_MAX = 64  # RFC 5280 ub-common-name
O_MAX = 64  # RFC 5280 ub-organization-name


class CsrError(ValueError):
    """A CSR cannot be built (e.g. OrganizationName is not set)."""


def new_key() -> ec.EllipticCurvePrivateKey:
    """A fresh key pair from the operating system's random source (A02.FR.02)."""
    return ec.generate_private_key(ec.SECP256R1())


def key_to_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted: the file itself is 0600 and never leaves the station (A02.FR.05)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def key_from_pem(data: bytes) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CsrError("the pending key is not an EC key")
    return key


def subject(common_name: str, organization: str) -> x509.Name:
    if not common_name:
        raise CsrError("the station identity (SecurityCtrlr.Identity) is empty")
    if not organization:
        raise CsrError("SecurityCtrlr.OrganizationName is not set (a prerequisite of A02/A03)")
    if len(common_name) > CN_MAX or len(organization) > O_MAX:
        raise CsrError("CN and O are at most 64 characters (RFC 5280)")
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        ]
    )


def build_csr(key: ec.EllipticCurvePrivateKey, common_name: str, organization: str) -> str:
    """The PEM CSR for SignCertificateRequest.csr (at most 5500 characters; P-256 needs ~500)."""
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=True,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject(common_name, organization))
        .add_extension(usage, critical=True)  # A00.FR.512
        .sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM).decode("ascii")
