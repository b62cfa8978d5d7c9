"""TransportConfig.ca_data: the installed CSMS roots (M05) as PEM text, trusted besides ca_file."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

from pki import make_ca

from ocpp_station.transport import TransportConfig


def config(**kwargs: Any) -> TransportConfig:
    return TransportConfig(
        csms_url="wss://127.0.0.1:1/ocpp", station_id="CS001", security_profile=2, **kwargs
    )


def subjects(context: ssl.SSLContext) -> set[str]:
    return {
        dict(item[0] for item in cert["subject"])["commonName"] for cert in context.get_ca_certs()
    }


def test_ca_data_and_ca_file_are_both_trusted(tmp_path: Path) -> None:
    file_root, first, second = make_ca("File root"), make_ca("First"), make_ca("Second")
    ca_file, _ = file_root.write(tmp_path, "ca")
    context = config(ca_file=str(ca_file), ca_data=first.pem + second.pem).ssl_context()
    assert context is not None
    assert subjects(context) == {"File root", "First", "Second"}
    assert context.verify_flags & ssl.VERIFY_X509_PARTIAL_CHAIN
    only_data = config(ca_data=first.pem).ssl_context()
    assert only_data is not None and subjects(only_data) == {"First"}


def test_empty_ca_data_trusts_nothing() -> None:
    """Every CSMS root deleted (M04 remark): no trust anchor at all, not the system's."""
    context = config(ca_data="").ssl_context()
    assert context is not None
    assert context.get_ca_certs() == []
    assert context.verify_mode == ssl.CERT_REQUIRED
