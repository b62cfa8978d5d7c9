"""The station's client certificate files under ``<data_dir>/certs/station/`` (A02/A03).

- ``cert.pem`` (leaf first, then the chain the CSMS sent) and ``key.pem``: the renewed pair, used
  for security profile 3 connections when present; otherwise the config's ``cert_file`` and
  ``key_file`` (the manufacturer's or installer's pair) are used.
- ``pending-key.pem``: the key of the CSR waiting for its CertificateSigned; kept over a restart.
- ``previous-cert.pem``/``previous-key.pem``: the pair in use before the last renewal, kept until
  a connection with the new pair worked (then deleted, A02.FR.10 as the 2025-01 errata has it) or
  put back when the new pair does not work (A02.FR.28).

Directories are 0700, key files 0600, every file written atomically (temp file, fsync, rename).
Private keys never leave these files (A02.FR.05): nothing here returns key material to a caller
other than the TLS set-up, which reads the file itself.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from ocpp_station.files import make_private_dir, write_atomic

if TYPE_CHECKING:
    from cryptography import x509

CERT, KEY, PENDING_KEY = "cert.pem", "key.pem", "pending-key.pem"
PREVIOUS_CERT, PREVIOUS_KEY = "previous-cert.pem", "previous-key.pem"


class StationCertificateFiles:
    """The files of one station; ``configured`` is the config's (cert_file, key_file) pair."""

    def __init__(
        self, data_dir: Path, configured: tuple[Path | None, Path | None], *, new: bool = False
    ) -> None:
        """``new``: ``data_dir`` was made at this start (empty): no renewed pair, no look."""
        self._data_dir = data_dir
        self.configured = configured
        # known after the first look (only this class writes)
        self._renewed: bool | None = False if new else None

    @functools.cached_property
    def certs(self) -> Path:
        return Path(self._data_dir) / "certs"

    @functools.cached_property
    def dir(self) -> Path:
        """``<data_dir>/certs/station`` (worked out when first used: most starts never do)."""
        return self.certs / "station"

    def _path(self, name: str) -> Path:
        return self.dir / name

    def _ensure_dir(self) -> None:
        make_private_dir(self.certs)
        make_private_dir(self.dir)

    # -- the pending key ---------------------------------------------------------------------------
    def write_pending_key(self, pem: bytes) -> None:
        self._ensure_dir()
        write_atomic(self._path(PENDING_KEY), pem, 0o600)

    def pending_key_pem(self) -> bytes | None:
        try:
            return self._path(PENDING_KEY).read_bytes()
        except FileNotFoundError:
            return None

    def drop_pending_key(self) -> None:
        self._path(PENDING_KEY).unlink(missing_ok=True)

    # -- the pair in use ---------------------------------------------------------------------------
    def renewed(self) -> bool:
        """A renewed pair is in use (looked up once: the renewal loop asks at every turn; only
        :meth:`install` and :meth:`fall_back` change it)."""
        if self._renewed is None:
            self._renewed = self._path(CERT).is_file() and self._path(KEY).is_file()
        return self._renewed

    def current_pair(self) -> tuple[Path, Path] | None:
        """The (certificate, key) files a profile 3 connection uses now."""
        if self.renewed():
            return self._path(CERT), self._path(KEY)
        cert, key = self.configured
        return (cert, key) if cert is not None and key is not None else None

    def unconfirmed(self) -> bool:
        """A renewed pair is in use that no connection has proven yet (the previous is kept)."""
        return self.renewed() and self._path(PREVIOUS_CERT).is_file()

    def install(self, chain_pem: str) -> None:
        """The pending key and its signed chain become the pair in use; the pair in use so far
        is kept as the previous one until the new one worked."""
        pending = self.pending_key_pem()
        if pending is None:
            raise FileNotFoundError("no pending key")
        self._ensure_dir()
        current = self.current_pair()
        if current is not None and not self.unconfirmed():
            # Keep the pair that last worked; an unconfirmed one never did, so it is not kept.
            cert, key = current
            write_atomic(self._path(PREVIOUS_CERT), cert.read_bytes(), 0o600)
            write_atomic(self._path(PREVIOUS_KEY), key.read_bytes(), 0o600)
        self._renewed = None
        write_atomic(self._path(KEY), pending, 0o600)
        write_atomic(self._path(CERT), chain_pem.encode("utf-8"), 0o600)
        self.drop_pending_key()

    def confirm(self) -> bool:
        """A02.FR.10: a connection with the new pair worked; the previous one is deleted.
        True when there was one."""
        had = self._path(PREVIOUS_CERT).exists()
        self._path(PREVIOUS_CERT).unlink(missing_ok=True)
        self._path(PREVIOUS_KEY).unlink(missing_ok=True)
        return had

    def fall_back(self) -> bool:
        """A02.FR.28: the new pair does not work; the previous pair is put back and the new one
        discarded.  True when it happened."""
        if not self.unconfirmed() or not self._path(PREVIOUS_KEY).is_file():
            return False
        self._renewed = None
        write_atomic(self._path(KEY), self._path(PREVIOUS_KEY).read_bytes(), 0o600)
        write_atomic(self._path(CERT), self._path(PREVIOUS_CERT).read_bytes(), 0o600)
        self.confirm()
        return True

    def certificate(self) -> x509.Certificate | None:
        """The leaf of the pair in use (None without one, or when it cannot be read)."""
        pair = self.current_pair()
        if pair is None:
            return None
        from cryptography import x509  # lazy: only a station with a client certificate

        try:
            chain = x509.load_pem_x509_certificates(pair[0].read_bytes())
        except (OSError, ValueError):
            return None
        return chain[0] if chain else None
