"""Which CertificateSigned chains are accepted (A02.FR.06/07/16, A00.FR.5xx)."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from pki import Issued, Pki, issue, make_pki, name, pem, sign_csr

from ocpp_station.blocks.security.chain import ChainRejected, check_chain, parse_chain
from ocpp_station.blocks.security.csr import build_csr, new_key

NOW = datetime.datetime.now(datetime.UTC)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"), station_id="CS001")


def _ca(pki: Pki) -> Issued:
    return pki.ca


def _check(
    pki: Pki, chain: str, key: ec.EllipticCurvePrivateKey, **kw: object
) -> list[x509.Certificate]:
    args: dict[str, object] = {
        "pending_key": key.public_key(),
        "roots": [pki.ca.certificate],
        "now": NOW,
        "identity": "CS001",
        "max_size": 10000,
    }
    args.update(kw)
    return check_chain(chain, **args)  # type: ignore[arg-type]


def _reason(pki: Pki, chain: str, key: ec.EllipticCurvePrivateKey, **kw: object) -> str:
    with pytest.raises(ChainRejected) as info:
        _check(pki, chain, key, **kw)
    return info.value.reason


def test_a_leaf_signed_by_the_root_for_the_pending_key_is_accepted(pki: Pki) -> None:
    key = new_key()
    leaf = sign_csr(build_csr(key, "CS001", "ExampleCPO"), _ca(pki))
    assert _check(pki, pem(leaf), key)[0].serial_number == leaf.serial_number


def test_a_chain_through_an_intermediate_is_accepted(pki: Pki) -> None:
    sub_key = ec.generate_private_key(ec.SECP256R1())
    sub = issue(_ca(pki), sub_key.public_key(), name("CSO Sub-CA", "ExampleCPO"), ca_cert=True)
    key = new_key()
    leaf = sign_csr(build_csr(key, "CS001", "ExampleCPO"), Issued(sub, sub_key))
    assert len(_check(pki, pem(leaf, sub), key)) == 2
    # without the intermediate there is no path to the root
    assert _reason(pki, pem(leaf), key) == "UntrustedChain"


def test_a_leaf_from_another_ca_is_rejected(pki: Pki) -> None:
    key = new_key()
    leaf = sign_csr(build_csr(key, "CS001", "ExampleCPO"), pki.other_ca)
    assert _reason(pki, pem(leaf), key) == "UntrustedChain"


def test_a_leaf_for_another_key_is_rejected(pki: Pki) -> None:
    key = new_key()
    leaf = sign_csr(build_csr(new_key(), "CS001", "ExampleCPO"), _ca(pki))
    assert _reason(pki, pem(leaf), key) == "KeyMismatch"


def test_without_a_pending_csr_nothing_is_accepted(pki: Pki) -> None:
    key = new_key()
    leaf = sign_csr(build_csr(key, "CS001", "ExampleCPO"), _ca(pki))
    assert _reason(pki, pem(leaf), key, pending_key=None) == "NoPendingRequest"


def test_expired_and_not_yet_valid_leaves_are_rejected_a02_fr_06(pki: Pki) -> None:
    key = new_key()
    csr = build_csr(key, "CS001", "ExampleCPO")
    expired = sign_csr(csr, _ca(pki), not_before=NOW - datetime.timedelta(days=10), days=5)
    assert _reason(pki, pem(expired), key) == "NotValidNow"
    # the 2025-01 errata: a certificate valid only from tomorrow is refused as well
    future = sign_csr(csr, _ca(pki), not_before=NOW + datetime.timedelta(days=1))
    assert _reason(pki, pem(future), key) == "NotValidNow"


def test_the_leaf_must_name_the_station_and_an_organization(pki: Pki) -> None:
    key = new_key()
    other_cn = issue(_ca(pki), key.public_key(), name("CS999", "ExampleCPO"))
    assert _reason(pki, pem(other_cn), key) == "InvalidProperties"
    no_o = issue(
        _ca(pki),
        key.public_key(),
        x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "CS001")]),
    )
    assert _reason(pki, pem(no_o), key) == "InvalidProperties"


def test_no_trusted_root_means_rejected(pki: Pki) -> None:
    key = new_key()
    leaf = sign_csr(build_csr(key, "CS001", "ExampleCPO"), _ca(pki))
    assert _reason(pki, pem(leaf), key, roots=[]) == "NoTrustedRoot"


def test_malformed_and_too_large_chains_are_rejected_a02_fr_16(pki: Pki) -> None:
    key = new_key()
    assert _reason(pki, "not a certificate", key) == "InvalidFormat"
    assert _reason(pki, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", key) == (
        "InvalidFormat"
    )
    leaf = sign_csr(build_csr(key, "CS001", "ExampleCPO"), _ca(pki))
    text = pem(leaf)
    assert _reason(pki, text, key, max_size=len(text) - 1) == "ChainTooLarge"
    assert len(parse_chain(text, max_size=len(text))) == 1


def test_reason_codes_fit_status_info() -> None:
    for reason in (
        "InvalidFormat",
        "ChainTooLarge",
        "NoPendingRequest",
        "KeyMismatch",
        "NotValidNow",
        "InvalidProperties",
        "NoTrustedRoot",
        "UntrustedChain",
    ):
        assert len(reason) <= 20  # StatusInfoType.reasonCode is string[0..20]
