"""What InstallCertificate accepts (M05): pure checks on the certificate the CSMS sends.

* the PEM text holds exactly one X.509 certificate (an InstallCertificateRequest carries one
  CA certificate, string[0..5500]);
* it is within its validity period now (M05.FR.07: an invalid certificate is Rejected);
* it is a CA certificate: basicConstraints cA true, and keyCertSign where a keyUsage is present;
* it is self-signed (a root), or issued by a certificate already installed for the same use
  (a sub-CA below an installed root); its signature is verified either way;
* ``SecurityCtrlr.AdditionalRootCertificateCheck`` true (M05.FR.09–11): a new CSMS root must be
  signed by the CSMS root it replaces (``replaced_csms_roots``: the installed ones, not counting
  a fallback).

Each refusal carries a reasonCode (StatusInfoType, at most 20 characters) and a text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from ocpp_station.blocks.certificates.layout import CSMS_ROOT, INSTALL_USES


@dataclass(frozen=True)
class Refusal:
    reason: str  # StatusInfoType.reasonCode
    info: str


def parse_one(pem: str) -> x509.Certificate | Refusal:
    """The single certificate of ``pem``, or why it is not one."""
    try:
        certificates = x509.load_pem_x509_certificates(pem.encode("utf-8"))
    except (ValueError, UnicodeError) as exc:
        return Refusal("InvalidFormat", f"not a PEM X.509 certificate: {exc}")
    if len(certificates) != 1:
        return Refusal("InvalidFormat", f"{len(certificates)} certificates, expected one")
    return certificates[0]


def directly_issued(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Is ``certificate`` signed by ``issuer``'s key (and names it as its issuer)?"""
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def is_ca(certificate: x509.Certificate) -> bool:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    if not constraints.ca:
        return False
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return bool(usage.key_cert_sign)


def check_validity(certificate: x509.Certificate, now: datetime) -> Refusal | None:
    if now < certificate.not_valid_before_utc:
        return Refusal("NotYetValid", f"valid from {certificate.not_valid_before_utc.isoformat()}")
    if now > certificate.not_valid_after_utc:
        return Refusal("Expired", f"expired {certificate.not_valid_after_utc.isoformat()}")
    return None


def check_install(
    certificate: x509.Certificate,
    use: str,
    now: datetime,
    installed_same_use: Iterable[x509.Certificate],
    *,
    replaced_csms_roots: Sequence[x509.Certificate] = (),
) -> Refusal | None:
    """None when ``certificate`` may be installed as ``use``; else why not (Rejected)."""
    if use not in INSTALL_USES:
        return Refusal("UnknownUse", f"certificateType {use!r} not supported")
    refusal = check_validity(certificate, now)
    if refusal is not None:
        return refusal
    if not is_ca(certificate):
        return Refusal("NotCA", "not a CA certificate (basicConstraints cA / keyCertSign)")
    installed = list(installed_same_use)
    known = certificate in installed  # installed again: replaced (M05.FR.17)
    self_signed = directly_issued(certificate, certificate)
    if not (known or self_signed or any(directly_issued(certificate, c) for c in installed)):
        return Refusal(
            "UnknownIssuer", "neither self-signed nor issued by an installed certificate"
        )
    if use == CSMS_ROOT and replaced_csms_roots:
        # AdditionalRootCertificateCheck (M05.FR.10/11): the new CSMS root must be signed by the
        # one it replaces.  The same certificate again replaces itself (M05.FR.17) and passes.
        if replacing_root(certificate, replaced_csms_roots) is None:
            return Refusal(
                "NotSignedByOldRoot",
                "AdditionalRootCertificateCheck: not signed by the installed CSMS root",
            )
    return None


def replacing_root(
    certificate: x509.Certificate, roots: Sequence[x509.Certificate]
) -> x509.Certificate | None:
    """The root among ``roots`` that ``certificate`` replaces under AdditionalRootCertificateCheck:
    the same certificate, else the one that signed it; None when there is none."""
    for root in roots:
        if root == certificate:
            return root
    for root in roots:
        if directly_issued(certificate, root):
            return root
    return None
