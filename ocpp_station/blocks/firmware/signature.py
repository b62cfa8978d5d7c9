"""Firmware signing certificate and signature checks (L01.FR.04, L01.FR.12, L01.FR.21/22).

* The signing certificate must be a valid X.509 certificate, within its validity period, issued
  directly by one of the manufacturer roots (the manufacturer uses no intermediate certificate
  for firmware signing, L01 remark).
* The signature (base64 in the request) is computed over the entire firmware file with SHA-256:
  RSA-PSS for an RSA key, ECDSA for an EC key (ECSchnorr, which L01.FR.04 also names, has no
  standard encoding and is not supported).  The file is hashed in chunks, so a large image is
  never held in memory.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

CHUNK = 1 << 16


def load_roots(pem: bytes) -> list[x509.Certificate]:
    """The certificates of a PEM bundle (the manufacturer roots)."""
    return x509.load_pem_x509_certificates(pem)


def check_signing_certificate(
    certificate_pem: str, roots: Iterable[x509.Certificate], now: datetime
) -> str | None:
    """None when the certificate is valid for firmware signing at ``now``; else the reason."""
    try:
        certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    except ValueError as exc:
        return f"not a PEM certificate: {exc}"
    if now < certificate.not_valid_before_utc:
        return "signing certificate not yet valid"
    if now > certificate.not_valid_after_utc:
        return "signing certificate expired"
    roots = list(roots)
    if not roots:
        return "no manufacturer root certificate installed"
    for root in roots:
        try:
            certificate.verify_directly_issued_by(root)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return None
    return "signing certificate not issued by a manufacturer root"


def file_digest(path: Path) -> bytes:
    """SHA-256 of the whole file, read in chunks."""
    digest = hashes.Hash(hashes.SHA256())
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.finalize()


def verify_signature(digest: bytes, signature_b64: str | None, certificate_pem: str) -> bool:
    """Does ``signature_b64`` sign the file whose SHA-256 is ``digest`` with the key of the
    certificate?  A missing signature fails (L01 scenario step 5)."""
    if not signature_b64:
        return False
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        key = x509.load_pem_x509_certificate(certificate_pem.encode()).public_key()
    except (ValueError, binascii.Error):
        return False
    prehashed = utils.Prehashed(hashes.SHA256())
    try:
        if isinstance(key, rsa.RSAPublicKey):
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
            key.verify(signature, digest, pss, prehashed)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, digest, ec.ECDSA(prehashed))
        else:
            return False
    except InvalidSignature:
        return False
    return True
