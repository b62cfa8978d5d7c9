"""certificateHashData of OCPP 2.0.1 (Part 2, CertificateHashDataType): how a certificate is named
in GetInstalledCertificateIds and DeleteCertificate.

* ``issuerNameHash``: the hash of the DER encoding of the certificate's issuer name field, taken
  from the certificate's own bytes (not re-encoded);
* ``issuerKeyHash``: the hash of the issuer's public key, that is the value of the BIT STRING
  ``subjectPublicKey`` of the issuer certificate's SubjectPublicKeyInfo, without tag, length and
  the unused-bits octet (as OCSP, RFC 6960, computes it);
* ``serialNumber``: the serial number in hexadecimal, lower case, without ``0x`` and without
  leading zeroes.

The station reports SHA256 (HashAlgorithmEnumType); a DeleteCertificate request may use any of
SHA256, SHA384 and SHA512 (M04.FR.07 asks the CSMS to use the reported one).  Pure functions.
"""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

ALGORITHMS = {"SHA256": "sha256", "SHA384": "sha384", "SHA512": "sha512"}
REPORTED_ALGORITHM = "SHA256"


class DerError(ValueError):
    """Bytes that are not the DER this module reads."""


def _element(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, start of the value, end of the value) of the DER element at ``offset``."""
    if offset + 2 > len(data):
        raise DerError("truncated DER element")
    tag = data[offset]
    length = data[offset + 1]
    start = offset + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            raise DerError("unsupported DER length")
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    end = start + length
    if end > len(data):
        raise DerError("DER element longer than its container")
    return tag, start, end


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """The elements inside a constructed value: (tag, element start, value start, value end)."""
    out = []
    offset = start
    while offset < end:
        tag, value_start, value_end = _element(data, offset)
        out.append((tag, offset, value_start, value_end))
        offset = value_end
    return out


def issuer_name_der(certificate: x509.Certificate) -> bytes:
    """The issuer Name field of the certificate, as its DER bytes (TBSCertificate's 4th field, or
    3rd without the optional ``[0] version``)."""
    tbs = certificate.tbs_certificate_bytes
    _, start, end = _element(tbs, 0)
    fields = _children(tbs, start, end)
    if fields and fields[0][0] == 0xA0:  # [0] EXPLICIT version
        fields = fields[1:]
    if len(fields) < 3 or fields[2][0] != 0x30:
        raise DerError("no issuer name in the certificate")
    _, element_start, _, value_end = fields[2]
    return tbs[element_start:value_end]


def public_key_bits(certificate: x509.Certificate) -> bytes:
    """The subjectPublicKey BIT STRING value of the certificate, without the unused-bits octet."""
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _, start, end = _element(spki, 0)
    fields = _children(spki, start, end)
    if len(fields) != 2 or fields[1][0] != 0x03:
        raise DerError("no subjectPublicKey BIT STRING")
    _, _, value_start, value_end = fields[1]
    return spki[value_start + 1 : value_end]


def serial_hex(certificate: x509.Certificate) -> str:
    """The serial number: lower-case hex, no ``0x``, no leading zeroes (``0`` for zero)."""
    return format(certificate.serial_number, "x")


def hash_data(
    certificate: x509.Certificate,
    issuer: x509.Certificate,
    algorithm: str = REPORTED_ALGORITHM,
) -> dict[str, Any]:
    """The CertificateHashDataType of ``certificate`` issued by ``issuer`` (itself for a root)."""
    name = ALGORITHMS[algorithm]
    return {
        "hashAlgorithm": algorithm,
        "issuerNameHash": hashlib.new(name, issuer_name_der(certificate)).hexdigest(),
        "issuerKeyHash": hashlib.new(name, public_key_bits(issuer)).hexdigest(),
        "serialNumber": serial_hex(certificate),
    }


def normalized(data: dict[str, Any]) -> tuple[str, str, str, str] | None:
    """A request's hash data in comparable form (hashes and serial lower case, serial without
    leading zeroes); None for an algorithm the station does not know."""
    algorithm = str(data.get("hashAlgorithm", ""))
    if algorithm not in ALGORITHMS:
        return None
    serial = str(data.get("serialNumber", "")).lower().removeprefix("0x").lstrip("0") or "0"
    return (
        algorithm,
        str(data.get("issuerNameHash", "")).lower(),
        str(data.get("issuerKeyHash", "")).lower(),
        serial,
    )


def matches(
    request: dict[str, Any], certificate: x509.Certificate, issuer: x509.Certificate | None
) -> bool:
    """Does the request's hash data name this certificate?  Without the issuer certificate (a
    station certificate whose issuer is not at hand) the issuer key hash is not compared."""
    wanted = normalized(request)
    if wanted is None:
        return False
    algorithm, name_hash, key_hash, serial = wanted
    if serial != serial_hex(certificate):
        return False
    hasher = ALGORITHMS[algorithm]
    if name_hash != hashlib.new(hasher, issuer_name_der(certificate)).hexdigest():
        return False
    if issuer is None:
        return True
    return key_hash == hashlib.new(hasher, public_key_bits(issuer)).hexdigest()
