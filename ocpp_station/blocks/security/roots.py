"""The trusted roots until the certificate store is wired in: the config's ``ca_file``.

``ca_file`` is the CSMS root the TLS connection trusts, the root of the Charging Station Operator
hierarchy (A00.FR.601), so it stands for ``CSMSRootCertificate``; no other use has roots here.
The file is read at every call, so a replaced file counts from the next check.
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

CSMS_ROOT = "CSMSRootCertificate"


class CaFileRoots:
    def __init__(self, ca_file: Path | None) -> None:
        self.ca_file = ca_file

    def roots(self, use: str) -> list[x509.Certificate]:
        if use != CSMS_ROOT or self.ca_file is None:
            return []
        try:
            return x509.load_pem_x509_certificates(Path(self.ca_file).read_bytes())
        except (OSError, ValueError):
            return []
