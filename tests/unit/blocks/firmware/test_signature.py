"""Signing certificate and signature checks (L01.FR.04, L01.FR.12, L01.FR.21)."""

from __future__ import annotations

import base64
import datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from filetransfer import make_signing_pki
from pki import make_ca

from ocpp_station.blocks.firmware import signature

NOW = datetime.datetime.now(datetime.UTC)


def test_ecdsa_signature_over_the_whole_file(tmp_path: Path) -> None:
    pki = make_signing_pki(tmp_path)
    image = tmp_path / "fw.bin"
    image.write_bytes(b"x" * 200_000)
    digest = signature.file_digest(image)
    good = pki.sign(image.read_bytes())
    assert signature.verify_signature(digest, good, pki.certificate_pem)
    assert not signature.verify_signature(digest, pki.sign(b"other"), pki.certificate_pem)
    assert not signature.verify_signature(digest, None, pki.certificate_pem)  # missing: fails
    assert not signature.verify_signature(digest, "not base64!", pki.certificate_pem)


def test_rsa_pss_signature(tmp_path: Path) -> None:
    signer = make_ca("rsa signer", rsa=True)
    assert isinstance(signer.key, rsa.RSAPrivateKey)
    key, pem = signer.key, signer.pem
    data = b"firmware"
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH)
    sig = base64.b64encode(key.sign(data, pss, hashes.SHA256())).decode()
    image = tmp_path / "fw.bin"
    image.write_bytes(data)
    assert signature.verify_signature(signature.file_digest(image), sig, pem)


def test_signing_certificate_must_come_from_a_manufacturer_root(tmp_path: Path) -> None:
    pki = make_signing_pki(tmp_path / "a")
    other = make_signing_pki(tmp_path / "b", "Other Root")
    roots = signature.load_roots(pki.root_file.read_bytes())
    assert signature.check_signing_certificate(pki.certificate_pem, roots, NOW) is None
    both = roots + signature.load_roots(other.root_file.read_bytes())
    assert signature.check_signing_certificate(other.certificate_pem, both, NOW) is None
    assert "not issued" in str(
        signature.check_signing_certificate(other.certificate_pem, roots, NOW)
    )
    assert "no manufacturer root" in str(
        signature.check_signing_certificate(pki.certificate_pem, [], NOW)
    )
    later = NOW + datetime.timedelta(days=400)
    assert "expired" in str(signature.check_signing_certificate(pki.certificate_pem, roots, later))
    assert "not a PEM" in str(signature.check_signing_certificate("garbage", roots, NOW))
