"""The A00 TLS rules of the client context and the classification of failed attempts."""

from __future__ import annotations

import logging
import ssl

import pytest
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus
from websockets.http11 import Response

from ocpp_station import tls
from ocpp_station.transport import TransportConfig

# A00.FR.319: (ECDHE_ECDSA AES-128/256-GCM) or (RSA AES-128/256-GCM) -- the client offers both
# pairs, and the ECDHE_RSA ones for forward secrecy.
TLS12_SUITES = {
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "AES128-GCM-SHA256",
    "AES256-GCM-SHA384",
}


def context() -> ssl.SSLContext:
    ctx = TransportConfig("wss://csms.example/ocpp", "CS001", security_profile=2).ssl_context()
    assert ctx is not None
    return ctx


def test_tls_12_or_newer_only() -> None:
    ctx = context()
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2  # A00.FR.313
    assert ctx.maximum_version in (ssl.TLSVersion.MAXIMUM_SUPPORTED, ssl.TLSVersion.TLSv1_3)


def test_the_cipher_suites_offered() -> None:
    offered = context().get_ciphers()
    tls12 = {c["name"] for c in offered if c["protocol"] == "TLSv1.2"}
    assert tls12 == TLS12_SUITES
    # every suite offered is an AEAD one with authentication (A00.FR.320): no CBC, no RC4/3DES
    for cipher in offered:
        assert cipher["aead"], cipher["name"]
    tls13 = {c["name"] for c in offered if c["protocol"] == "TLSv1.3"}
    assert "TLS_AES_256_GCM_SHA384" in tls13


def test_no_compression_and_full_verification() -> None:
    ctx = context()
    assert ctx.options & ssl.OP_NO_COMPRESSION  # A00.FR.321
    assert ctx.verify_mode == ssl.CERT_REQUIRED  # A00.FR.308: the certification path
    assert ctx.check_hostname is True  # A00.FR.309: the CSMS's name


def test_plain_ws_has_no_context() -> None:
    assert TransportConfig("ws://h/ocpp", "CS001").ssl_context() is None


def ssl_error(reason: str) -> ssl.SSLError:
    error = ssl.SSLError(1, f"[SSL: {reason}] ...")
    error.reason = reason
    return error


def status(code: int) -> InvalidStatus:
    return InvalidStatus(Response(code, "x", Headers()))


def test_a_certificate_verification_failure_is_invalid_csms_certificate() -> None:
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_message = "unable to get local issuer certificate"
    assert tls.classify(error) == (
        "InvalidCsmsCertificate",
        "CSMS certificate not valid: unable to get local issuer certificate",
    )


@pytest.mark.parametrize(
    "reason", ["TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "WRONG_SSL_VERSION"]
)
def test_an_old_tls_version_is_invalid_tls_version(reason: str) -> None:
    found = tls.classify(ssl_error(reason))
    assert found is not None and found[0] == "InvalidTLSVersion" and reason in found[1]


@pytest.mark.parametrize("reason", ["SSLV3_ALERT_HANDSHAKE_FAILURE", "NO_CIPHERS_AVAILABLE"])
def test_no_agreed_suite_is_invalid_tls_cipher_suite(reason: str) -> None:
    found = tls.classify(ssl_error(reason))
    assert found is not None and found[0] == "InvalidTLSCipherSuite"


@pytest.mark.parametrize("code", [401, 403])
def test_refused_credentials_are_failed_to_authenticate(code: int) -> None:
    assert tls.classify(status(code)) == (
        "FailedToAuthenticateAtCsms",
        f"the CSMS answered the upgrade with HTTP {code}",
    )


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "refused"),
        TimeoutError(),
        OSError(101, "unreachable"),
        ssl_error("WRONG_VERSION_NUMBER"),  # e.g. plain HTTP on the port: not a TLS version
        status(404),
        status(500),
    ],
)
def test_other_failures_are_no_security_event(exc: BaseException) -> None:
    assert tls.classify(exc) is None


def test_how_a_failure_is_logged() -> None:
    verify = ssl.SSLCertVerificationError(1, "certificate verify failed")
    level, message, event = tls.failure(verify)
    assert level == logging.ERROR and "failed verification" in message
    assert event is not None and event[0] == "InvalidCsmsCertificate"
    level, message, event = tls.failure(ssl_error("TLSV1_ALERT_PROTOCOL_VERSION"))
    assert level == logging.ERROR and event is not None and event[0] == "InvalidTLSVersion"
    assert tls.failure(ConnectionRefusedError(111, "refused")) == (
        logging.WARNING,
        "connecting to %s failed: %s",
        None,
    )
