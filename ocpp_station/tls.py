"""The TLS rules of OCPP 2.0.1 Part 2 A00 for the station's websocket client, as pure data and
functions: which versions and cipher suites the client offers, and which security event a failed
connection attempt is.

* A00.FR.313/416: TLS 1.2 or newer only (``MINIMUM_VERSION``).
* A00.FR.319/422: the station supports at least (TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 and
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384) or (TLS_RSA_WITH_AES_128_GCM_SHA256 and
  TLS_RSA_WITH_AES_256_GCM_SHA384).  The client offers all four for TLS 1.2, plus the ECDHE_RSA
  variants of the same AES-GCM suites ("at least" allows them; they give a CSMS with an RSA
  certificate forward secrecy, which note 1 recommends).  Nothing with CBC, RC4, 3DES, SHA-1 MACs
  or without authentication is offered (A00.FR.320).  TLS 1.3 negotiates OpenSSL's default
  TLS 1.3 suites (all AEAD: AES-GCM and ChaCha20-Poly1305); ``set_ciphers`` does not touch them.
* A00.FR.321/424: no TLS compression (``OP_NO_COMPRESSION``).
* A00.FR.308/309/411/412: the certification path and the host name are verified
  (``PROTOCOL_TLS_CLIENT`` turns both on; a failure is ``InvalidCsmsCertificate``, A00.FR.310).

:func:`failure` says how the transport logs a failed attempt, and :func:`classify` names the
security event it is (A00.FR.310, A00.FR.316, A00.FR.323, and ``FailedToAuthenticateAtCsms`` for
an HTTP 401/403 answer to the websocket upgrade); None for a failure that is not a security
event (no route, refused, timeout).
"""

from __future__ import annotations

import logging
import ssl

from websockets.exceptions import InvalidStatus

MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2

# OpenSSL names of the TLS 1.2 suites offered, in order of preference.
TLS12_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",  # TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (A00.FR.319)
    "ECDHE-ECDSA-AES256-GCM-SHA384",  # TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 (A00.FR.319)
    "ECDHE-RSA-AES128-GCM-SHA256",  # TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (forward secrecy)
    "ECDHE-RSA-AES256-GCM-SHA384",  # TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (forward secrecy)
    "AES128-GCM-SHA256",  # TLS_RSA_WITH_AES_128_GCM_SHA256 (A00.FR.319)
    "AES256-GCM-SHA384",  # TLS_RSA_WITH_AES_256_GCM_SHA384 (A00.FR.319)
)

INVALID_CSMS_CERTIFICATE = "InvalidCsmsCertificate"
INVALID_TLS_VERSION = "InvalidTLSVersion"
INVALID_TLS_CIPHER_SUITE = "InvalidTLSCipherSuite"
FAILED_TO_AUTHENTICATE = "FailedToAuthenticateAtCsms"

# OpenSSL reasons of a handshake the CSMS could only make with an older TLS version (or SSL):
# the server's protocol_version alert, or a ServerHello with a version below our minimum.
_VERSION_REASONS = frozenset(
    {
        "TLSV1_ALERT_PROTOCOL_VERSION",
        "UNSUPPORTED_PROTOCOL",
        "WRONG_SSL_VERSION",
        "UNSUPPORTED_SSL_VERSION",
        "NO_PROTOCOLS_AVAILABLE",
    }
)
# ... and of one where no offered cipher suite was acceptable to the CSMS: its
# handshake_failure alert (what OpenSSL servers send for "no shared cipher"), or a suite the
# client never offered.
_CIPHER_REASONS = frozenset(
    {
        "SSLV3_ALERT_HANDSHAKE_FAILURE",
        "SSLV3_ALERT_INSUFFICIENT_SECURITY",
        "TLSV1_ALERT_INSUFFICIENT_SECURITY",
        "NO_SHARED_CIPHER",
        "NO_CIPHERS_AVAILABLE",
        "WRONG_CIPHER_RETURNED",
    }
)
_AUTH_STATUSES = frozenset({401, 403})


def configure(context: ssl.SSLContext) -> ssl.SSLContext:
    """Apply the A00 TLS settings to a client context (made with ``PROTOCOL_TLS_CLIENT``)."""
    context.minimum_version = MINIMUM_VERSION
    context.set_ciphers(":".join(TLS12_CIPHERS))
    context.options |= ssl.OP_NO_COMPRESSION
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def classify(exc: BaseException) -> tuple[str, str] | None:
    """``(security event type, technical detail)`` for a failed connection attempt, or None."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        detail = getattr(exc, "verify_message", None) or str(exc)
        return INVALID_CSMS_CERTIFICATE, f"CSMS certificate not valid: {detail}"
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or ""
        if reason in _VERSION_REASONS:
            return INVALID_TLS_VERSION, f"the CSMS offers no TLS 1.2 or newer ({reason})"
        if reason in _CIPHER_REASONS:
            return INVALID_TLS_CIPHER_SUITE, f"no allowed cipher suite agreed ({reason})"
        return None
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        if status in _AUTH_STATUSES:
            return FAILED_TO_AUTHENTICATE, f"the CSMS answered the upgrade with HTTP {status}"
    return None


def failure(exc: BaseException) -> tuple[int, str, tuple[str, str] | None]:
    """How to log a failed connection attempt (level, a message taking the URL and the error)
    and its security event (:func:`classify`), for the transport."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        text = "TLS: the CSMS certificate of %s failed verification: %s"
        return logging.ERROR, text, classify(exc)
    if isinstance(exc, ssl.SSLError):
        return logging.ERROR, "TLS handshake with %s failed: %s", classify(exc)
    return logging.WARNING, "connecting to %s failed: %s", classify(exc)
