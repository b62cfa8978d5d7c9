"""What the certificate store holds and where, without parsing anything (no ``cryptography``):
the certificate uses (InstallCertificateUseEnumType, GetCertificateIdUseEnumType) and a cheap
look whether ``<data_dir>/certs/roots/`` holds any certificate file, so that a station with none
loads the store (and ``cryptography``) only on its first certificate message."""

from __future__ import annotations

import os
from pathlib import Path

INSTALL_USES = (
    "V2GRootCertificate",
    "MORootCertificate",
    "CSMSRootCertificate",
    "ManufacturerRootCertificate",
)  # InstallCertificateUseEnumType
LIST_USES = (*INSTALL_USES, "V2GCertificateChain")  # GetCertificateIdUseEnumType
CSMS_ROOT = "CSMSRootCertificate"
MANUFACTURER_ROOT = "ManufacturerRootCertificate"


def roots_dir(data_dir: Path) -> Path:
    """The store's folder: one sub-folder per use, one ``<sha256>.pem`` file per certificate."""
    return Path(data_dir) / "certs" / "roots"


def any_installed(data_dir: Path) -> bool:
    """Does the store hold a certificate file (or one it cannot tell from a certificate)?"""
    root = roots_dir(data_dir)
    if not os.path.lexists(root):  # (most stations: one system call, no directory walks)
        return False
    for use in INSTALL_USES:
        try:
            if any((root / use).glob("*.pem")):
                return True
        except OSError:
            return True  # unreadable: let the store open it and report it
    return False
