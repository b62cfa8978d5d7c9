"""The default :class:`~ocpp_station.blocks.interfaces.StationCertificateSource`: the leaf
certificate of the configured ``cert_file``, read at every call (a renewed file is seen)."""

from __future__ import annotations

import logging
from pathlib import Path

from cryptography import x509


class ConfigCertificateSource:
    def __init__(self, cert_file: Path | None, log: logging.Logger | None = None) -> None:
        self.cert_file = cert_file
        self._log = log or logging.getLogger("ocpp_station.certificates")

    def station_certificate(self) -> x509.Certificate | None:
        if self.cert_file is None:
            return None
        try:
            return x509.load_pem_x509_certificates(self.cert_file.read_bytes())[0]
        except (OSError, ValueError, IndexError) as exc:
            self._log.warning("cannot read the station certificate %s: %s", self.cert_file, exc)
            return None
