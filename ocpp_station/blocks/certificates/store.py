"""The installed CA certificates on disk (M05): ``<data_dir>/certs/roots/<use>/<sha256>.pem``.

One file per certificate, named by the SHA-256 of its DER, in a folder per certificate use
(InstallCertificateUseEnumType).  The file holds the certificate, followed by the certificate
that issued it when that is not itself (a CSMS root signed by the root it replaced, a sub-CA), so
its certificateHashData can be computed after the issuer is gone.  Folders are 0700, files 0600,
every write atomic (temp file, fsync, rename, fsync of the folder): a crash leaves the old file
or the new one, never half of one.  A file that no longer parses is skipped (and logged by the
caller), never deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ocpp_station.blocks.certificates.layout import INSTALL_USES, roots_dir
from ocpp_station.files import fsync_dir, make_private_dir, write_atomic


@dataclass(frozen=True)
class Installed:
    use: str
    certificate: x509.Certificate
    issuer: x509.Certificate | None  # None: self-signed (or the issuer was not recorded)
    path: Path

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.certificate)

    def pem(self) -> str:
        return pem(self.certificate)


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the DER, lower-case hex: the file name."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


class RootStore:
    """The folder ``<data_dir>/certs/roots``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> RootStore:
        root = roots_dir(data_dir)
        make_private_dir(root.parent)
        store = cls(root)
        make_private_dir(store.root)
        return store

    def load(self) -> tuple[list[Installed], list[str]]:
        """Every installed certificate, and the problems with files that could not be read."""
        found: list[Installed] = []
        problems: list[str] = []
        for use in INSTALL_USES:
            folder = self.root / use
            if not folder.is_dir():
                continue
            for path in sorted(folder.glob("*.pem")):
                try:
                    chain = x509.load_pem_x509_certificates(path.read_bytes())
                except (OSError, ValueError) as exc:
                    problems.append(f"{path}: {exc}")
                    continue
                issuer = chain[1] if len(chain) > 1 else None
                found.append(Installed(use, chain[0], issuer, path))
        return found, problems

    def add(
        self, use: str, certificate: x509.Certificate, issuer: x509.Certificate | None = None
    ) -> Installed:
        """Install (or replace, M05.FR.17) ``certificate`` for ``use``; durable on return."""
        if use not in INSTALL_USES:
            raise ValueError(f"unknown certificate use {use!r}")
        folder = self.root / use
        make_private_dir(folder)
        path = folder / f"{fingerprint(certificate)}.pem"
        text = pem(certificate) + (pem(issuer) if issuer is not None else "")
        write_atomic(path, text.encode("ascii"))
        return Installed(use, certificate, issuer, path)

    def remove(self, entry: Installed) -> None:
        """Delete the file of ``entry``; durable on return (OSError when it cannot)."""
        with contextlib.suppress(FileNotFoundError):
            entry.path.unlink()
        fsync_dir(entry.path.parent)

    def files(self) -> Iterator[Path]:
        yield from self.root.rglob("*")
