"""Checks of the certificate chain a CertificateSignedRequest carries (A02.FR.06/07/16), pure.

A chain is Accepted only when it is PEM (A00.FR.507), leaf first; not larger than
``MaxCertificateChainSize`` (A02.FR.16); the leaf carries the public key of the pending CSR; the
current date is within the leaf's validity period (A02.FR.06 as the 2025-01 errata has it: a
certificate that is not yet valid is refused too); the leaf has the properties of A00.FR.5xx (CN =
the station identity, an O); and the path from the leaf through the chain's intermediates to one
of the trusted roots verifies (signatures and validity of every certificate, RFC 5280 rules,
``cryptography.x509.verification`` in the client role).  A subjectAltName is not required: OCPP
says a Charging Station certificate SHOULD NOT have one (A00.FR.511 note).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

MIN_EC_BITS = 224  # A00.FR.503
MIN_RSA_BITS = 2048  # A00.FR.502


class ChainRejected(Exception):
    """Why a chain is refused: ``reason`` is the statusInfo reasonCode (at most 20 characters),
    ``detail`` the additionalInfo and the security event's techInfo."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}"


def _spki(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def parse_chain(pem: str, max_size: int | None = None) -> list[x509.Certificate]:
    """The certificates of a PEM chain, leaf first; raises :class:`ChainRejected`."""
    size = len(pem.encode("utf-8"))
    if max_size is not None and size > max_size:
        raise ChainRejected("ChainTooLarge", f"{size} bytes, MaxCertificateChainSize {max_size}")
    try:
        chain = x509.load_pem_x509_certificates(pem.encode("utf-8"))
    except ValueError as exc:
        raise ChainRejected("InvalidFormat", f"not a PEM certificate chain: {exc}") from None
    if not chain:
        raise ChainRejected("InvalidFormat", "no certificate in the chain")
    return chain


def _check_properties(leaf: x509.Certificate, identity: str) -> None:
    common_name = _attribute(leaf.subject, NameOID.COMMON_NAME)
    if common_name != identity:
        raise ChainRejected(
            "InvalidProperties", f"subject CN is {common_name!r}, not the station id {identity!r}"
        )
    if not _attribute(leaf.subject, NameOID.ORGANIZATION_NAME):
        raise ChainRejected("InvalidProperties", "subject has no O (organizationName)")
    key = leaf.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.key_size < MIN_EC_BITS:
        raise ChainRejected("InvalidProperties", f"EC key of {key.curve.key_size} bits")
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise ChainRejected("InvalidProperties", f"RSA key of {key.key_size} bits")


def _verifier_policy() -> ExtensionPolicy:
    # The Web PKI end-entity rules, except that a subjectAltName may be absent (A00.FR.511).
    return ExtensionPolicy.webpki_defaults_ee().may_be_present(
        x509.SubjectAlternativeName, Criticality.AGNOSTIC, None
    )


def check_chain(
    pem: str,
    *,
    pending_key: PublicKeyTypes | None,
    roots: Sequence[x509.Certificate],
    now: datetime.datetime,
    identity: str,
    max_size: int | None = None,
) -> list[x509.Certificate]:
    """The verified chain (leaf first), or :class:`ChainRejected` naming the first problem."""
    chain = parse_chain(pem, max_size)
    leaf = chain[0]
    if pending_key is None:
        raise ChainRejected("NoPendingRequest", "no certificate signing request is pending")
    if _spki(leaf.public_key()) != _spki(pending_key):
        raise ChainRejected("KeyMismatch", "the leaf does not carry the key of the pending CSR")
    if not leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc:
        raise ChainRejected(
            "NotValidNow",
            f"valid {leaf.not_valid_before_utc.isoformat()} to "
            f"{leaf.not_valid_after_utc.isoformat()}, now {now.isoformat()}",
        )
    _check_properties(leaf, identity)
    if not roots:
        raise ChainRejected("NoTrustedRoot", "no trusted root certificate is installed")
    verifier = (
        PolicyBuilder()
        .store(Store(list(roots)))
        .time(now)
        .extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=_verifier_policy()
        )
        .build_client_verifier()
    )
    try:
        verifier.verify(leaf, chain[1:])
    except VerificationError as exc:
        raise ChainRejected("UntrustedChain", f"path to a trusted root fails: {exc}") from None
    return chain
