"""certificateHashData (Part 2 CertificateHashDataType), recomputed here independently with
``cryptography`` primitives: the issuer's Name DER, the issuer's raw public key (the BIT STRING
content of subjectPublicKeyInfo: the X9.62 point for EC, the PKCS#1 RSAPublicKey for RSA), the
serial as lower-case hex without leading zeroes."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pki import Issued, issue_client, make_ca

from ocpp_station.blocks.certificates import hashdata


def raw_key(issuer: Issued) -> bytes:
    public = issuer.certificate.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        return public.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    assert isinstance(public, rsa.RSAPublicKey)
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)


def expected(subject: Issued, issuer: Issued, algorithm: str = "sha256") -> dict[str, str]:
    return {
        "hashAlgorithm": algorithm.upper(),
        "issuerNameHash": hashlib.new(
            algorithm, issuer.certificate.subject.public_bytes()
        ).hexdigest(),
        "issuerKeyHash": hashlib.new(algorithm, raw_key(issuer)).hexdigest(),
        "serialNumber": format(subject.certificate.serial_number, "x"),
    }


@pytest.mark.parametrize("rsa_key", [False, True])
def test_root_and_leaf(rsa_key: bool) -> None:
    root = make_ca("Root", rsa=rsa_key)
    leaf = issue_client(root, "CS001")
    assert hashdata.hash_data(root.certificate, root.certificate) == expected(root, root)
    assert hashdata.hash_data(leaf.certificate, root.certificate) == expected(leaf, root)


def test_other_algorithms_and_the_name_is_the_issuer_field() -> None:
    root = make_ca("Root")
    sub = make_ca("Sub", issuer=root)
    for algorithm in ("sha384", "sha512"):
        ours = hashdata.hash_data(sub.certificate, root.certificate, algorithm.upper())
        assert ours == expected(sub, root, algorithm)
    # the issuer name hash is over the certificate's issuer field, not its subject
    assert hashdata.issuer_name_der(sub.certificate) == root.certificate.subject.public_bytes()


def test_serial_without_leading_zeroes_lower_case() -> None:
    root = make_ca("Root", serial=0x00ABCDEF)
    assert hashdata.serial_hex(root.certificate) == "abcdef"
    one = make_ca("One", serial=1)
    assert hashdata.hash_data(one.certificate, one.certificate)["serialNumber"] == "1"


def test_matches_is_tolerant_of_case_and_leading_zeroes_only() -> None:
    root = make_ca("Root", serial=0x0ABC)
    data = hashdata.hash_data(root.certificate, root.certificate)
    assert hashdata.matches(data, root.certificate, root.certificate)
    shouting = {
        **data,
        "issuerNameHash": data["issuerNameHash"].upper(),
        "issuerKeyHash": data["issuerKeyHash"].upper(),
        "serialNumber": "0ABC",
    }
    assert hashdata.matches(shouting, root.certificate, root.certificate)
    sha512 = hashdata.hash_data(root.certificate, root.certificate, "SHA512")
    assert hashdata.matches(sha512, root.certificate, root.certificate)
    other = make_ca("Other")
    assert not hashdata.matches(data, other.certificate, other.certificate)
    assert not hashdata.matches({**data, "serialNumber": "abd"}, root.certificate, None)
    assert not hashdata.matches({**data, "issuerKeyHash": "00"}, root.certificate, root.certificate)
    assert hashdata.matches({**data, "issuerKeyHash": "00"}, root.certificate, None)
    assert not hashdata.matches({**data, "hashAlgorithm": "MD5"}, root.certificate, None)


def test_bad_der_is_an_error_not_a_crash() -> None:
    with pytest.raises(hashdata.DerError):
        hashdata._element(b"\x30\x85\x01", 0)
    with pytest.raises(hashdata.DerError):
        hashdata._element(b"\x30\x05\x01", 0)
