"""Certificate management (use cases M03, M04, M05): the CA certificates the station trusts.

* InstallCertificate (M05) checks the certificate (:mod:`.checks`) and stores it
  (:mod:`.store`, ``<data_dir>/certs/roots/<use>/``); the CSMS roots are what the TLS connection
  trusts from the next connection on, the manufacturer roots what signed firmware is checked
  against (L01).  ``CertificateEntries`` is the number installed; its maxLimit the most that can
  be (M05.FR.06).  ``AdditionalRootCertificateCheck`` true: one CSMS root at a time, replaced
  only by one it signed, the old one kept as a fallback until a connection verified with the new
  one (M05.FR.09–13).
* GetInstalledCertificateIds (M03) reports their certificateHashData (:mod:`.hashdata`).
* DeleteCertificate (M04) removes one; the station's own certificate is refused (M04.FR.06).

A root installed or removed changes what the station trusts: a security event
ReconfigurationOfSecurityParameters (security parameters changed, Part 2 appendix; not critical,
so it goes to the security log, A04.FR.04).

The certificates of the configured ``ca_file`` and ``[firmware] manufacturer_root`` are imported
into the store the first time they are seen (so the CSMS can list and delete them like any other);
one deleted through OCPP is not imported again while the file still holds it.

A station with no certificate file in the store and neither file configured opens the store on
the first certificate message: until then nothing is installed, and ``cryptography`` (the pure
modules here) is not even imported (start-up time and memory, docs/performance.md).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ocpp_station.blocks.base import Block
from ocpp_station.blocks.certificates.layout import CSMS_ROOT, LIST_USES, MANUFACTURER_ROOT
from ocpp_station.blocks.interfaces import SecurityEvents, StationCertificateSource
from ocpp_station.context import Context
from ocpp_station.ocpp_types import status_info

if TYPE_CHECKING:
    from cryptography import x509

    from ocpp_station.blocks.certificates.checks import Refusal
    from ocpp_station.blocks.certificates.store import Installed, RootStore

COMPONENT = "SecurityCtrlr"
STATE_KEY = "certificates"
DEFAULT_MAX_ENTRIES = 100


class CertificatesBlock(Block):
    def __init__(
        self,
        ctx: Context,
        *,
        open_store: Callable[[], RootStore],
        station_certificate: StationCertificateSource,
        on_trust_changed: Callable[[], None] | None = None,
        stored: Callable[[], bool] | None = None,
        security: SecurityEvents | None = None,
    ) -> None:
        """``stored`` tells cheaply (no parsing) whether the store holds any file; None: assume
        it does (the store is opened at start)."""
        super().__init__(ctx)
        self._open_store = open_store
        self._stored = stored
        self._security = security
        self._station = station_certificate
        self._on_trust_changed = on_trust_changed
        self._store: RootStore | None = None
        self._installed: list[Installed] = []
        ctx.handlers.register("InstallCertificate", self.on_install_certificate)
        ctx.handlers.register("GetInstalledCertificateIds", self.on_get_installed_certificate_ids)
        ctx.handlers.register("DeleteCertificate", self.on_delete_certificate)

    async def start(self) -> None:
        cfg = self.ctx.config
        if self._stored is None or self._stored() or cfg.ca_file or cfg.manufacturer_root:
            self._opened()
        # else nothing is installed (CertificateEntries 0) until the first certificate message
        self._report()

    def _opened(self) -> RootStore:
        """The store, opened (and the configured files imported into it) on first use."""
        if self._store is None:
            self._store = self._open_store()
            self._reload()
            self._import_configured()
        return self._store

    # -- what other parts use -------------------------------------------------------------------
    def roots(self, use: str) -> list[x509.Certificate]:
        return [entry.certificate for entry in self._installed if entry.use == use]

    def csms_roots_pem(self, *, with_fallback: bool = True) -> str:
        """The installed CSMS roots, as PEM text for the TLS context
        (``TransportConfig.ca_data``); empty when none is installed.  The fallback root of
        AdditionalRootCertificateCheck is among them (M05.FR.14: a reconnect to the same CSMS
        may still be verified by it) unless ``with_fallback`` is false: a migration to another
        CSMS (B10) is verified by the new root alone (M05.FR.15)."""
        fallback = None if with_fallback else self._state().get("fallback")
        return "".join(
            e.pem() for e in self._installed if e.use == CSMS_ROOT and e.fingerprint != fallback
        )

    def manufacturer_roots(self) -> list[x509.Certificate]:
        """What a firmware signing certificate must be issued by (L01)."""
        return self.roots(MANUFACTURER_ROOT)

    def config_ca_file_needed(self) -> bool:
        """Does the configured ``ca_file`` hold a certificate that is not a CA (never imported,
        so the TLS context must still load the file itself)?"""
        from ocpp_station.blocks.certificates import checks  # lazy: only with a ca_file

        bundle = _read_bundle(self.ctx.config.ca_file, self.ctx.log)
        return any(not checks.is_ca(c) for c in bundle)

    def connection_verified(self, peer_der: bytes | None) -> None:
        """A TLS connection is open with this server certificate: under
        AdditionalRootCertificateCheck the fallback root goes once the new root verified a
        connection (M05.FR.13: here, once the server certificate is issued directly by it)."""
        if peer_der is None:  # no TLS: no server certificate (and no state record read)
            return
        fallback = self._state().get("fallback")
        if not fallback:
            return
        from cryptography import x509  # lazy: a fallback root means the store is open

        from ocpp_station.blocks.certificates import checks  # lazy

        self._opened()
        try:
            leaf = x509.load_der_x509_certificate(peer_der)
        except ValueError:
            return
        for entry in self._installed:
            if entry.use != CSMS_ROOT or entry.fingerprint == fallback:
                continue
            if checks.directly_issued(leaf, entry.certificate):
                old = [e for e in self._installed if e.fingerprint == fallback]
                try:
                    self._remove(old, "fallback CSMS root after a connection with the new one")
                except OSError as exc:
                    self.ctx.log.warning("fallback CSMS root not removed: %s", exc)
                    return
                self._save_state(fallback=None)
                if self._security is not None:
                    self.ctx.spawn(
                        self._reconfigured("fallback CSMSRootCertificate removed (M05.FR.13)"),
                        "security event",
                    )
                return

    # -- CSMS -----------------------------------------------------------------------------------
    async def on_install_certificate(self, payload: dict[str, Any]) -> dict[str, Any]:
        from ocpp_station.blocks.certificates import checks, hashdata  # lazy: first use
        from ocpp_station.blocks.certificates.store import fingerprint  # lazy

        store = self._opened()
        use = str(payload.get("certificateType", ""))
        parsed = checks.parse_one(str(payload.get("certificate", "")))
        if isinstance(parsed, checks.Refusal):
            return _refused("Rejected", parsed)
        certificate = parsed
        now = datetime.datetime.fromtimestamp(self.ctx.now(), datetime.UTC)
        additional = self._additional_root_check()
        fallback = self._state().get("fallback")
        replaced = [e.certificate for e in self._current_csms_roots(fallback)] if additional else []
        refusal = checks.check_install(
            certificate,
            use,
            now,
            self.roots(use),
            replaced_csms_roots=replaced,
        )
        if refusal is not None:
            return _refused("Rejected", refusal)
        new = fingerprint(certificate)
        known = any(e.fingerprint == new and e.use == use for e in self._installed)
        if not known and len(self._installed) >= self._max_entries():
            return _refused(  # M05.FR.06
                "Rejected",
                checks.Refusal("MaxEntries", "CertificateEntries.maxLimit reached"),
            )
        issuer = next((e.issuer for e in self._installed if e.fingerprint == new), None)
        if issuer is None and not checks.directly_issued(certificate, certificate):
            issuer = next(
                (c for c in self.roots(use) if checks.directly_issued(certificate, c)), None
            )
        try:
            store.add(use, certificate, issuer)
        except OSError as exc:
            self.ctx.log.warning("certificate not installed: %s", exc)
            return _refused("Failed", checks.Refusal("WriteError", "could not be stored"))
        self._remember_imported(new)
        self._reload()
        if use == CSMS_ROOT and additional:
            self._replace_csms_root(certificate, replaced)
        self._report()
        serial = hashdata.serial_hex(certificate)
        self.ctx.log.info("installed %s %s (serial %s)", use, new, serial)
        await self._reconfigured(f"{use} installed (serial {serial})")
        if use == CSMS_ROOT:
            self._trust_changed()
        return {"status": "Accepted"}

    async def on_get_installed_certificate_ids(self, payload: dict[str, Any]) -> dict[str, Any]:
        from ocpp_station.blocks.certificates import hashdata  # lazy: first use

        self._opened()
        wanted = payload.get("certificateType")
        uses = set(wanted) if wanted else set(LIST_USES)
        chains = [
            {
                "certificateType": entry.use,
                "certificateHashData": hashdata.hash_data(
                    entry.certificate, entry.issuer or entry.certificate
                ),
            }
            for entry in self._installed
            if entry.use in uses
        ]
        # V2GCertificateChain (M03.FR.05): the station holds no V2G certificate yet: none listed.
        if not chains:
            return {"status": "NotFound"}  # M03.FR.02
        return {"status": "Accepted", "certificateHashDataChain": chains}  # M03.FR.03/04

    async def on_delete_certificate(self, payload: dict[str, Any]) -> dict[str, Any]:
        from ocpp_station.blocks.certificates import checks, hashdata  # lazy: first use

        self._opened()
        data = payload.get("certificateHashData") or {}
        own = self._station.station_certificate()
        if own is not None and hashdata.matches(data, own, None):
            return _refused(  # M04.FR.06
                "Failed",
                checks.Refusal("StationCertificate", "the station certificate cannot be deleted"),
            )
        found = [
            e
            for e in self._installed
            if hashdata.matches(data, e.certificate, e.issuer or e.certificate)
        ]
        if not found:
            return {"status": "NotFound"}  # M04.FR.04
        try:
            self._remove(found, "deleted by the CSMS")
        except OSError as exc:
            self.ctx.log.warning("certificate not deleted: %s", exc)
            return _refused("Failed", checks.Refusal("WriteError", "could not be deleted"))
        if self._state().get("fallback") in {e.fingerprint for e in found}:
            self._save_state(fallback=None)
        for entry in found:
            serial = hashdata.serial_hex(entry.certificate)
            await self._reconfigured(f"{entry.use} deleted (serial {serial})")
        return {"status": "Accepted"}  # M04.FR.02

    # -- internals ------------------------------------------------------------------------------
    async def _reconfigured(self, what: str) -> None:
        if self._security is not None:
            await self._security.raise_event("ReconfigurationOfSecurityParameters", tech_info=what)

    def _reload(self) -> None:
        assert self._store is not None
        self._installed, problems = self._store.load()
        for problem in problems:
            self.ctx.log.error("certificate store: unreadable file skipped: %s", problem)

    def _remove(self, entries: list[Installed], why: str) -> None:
        assert self._store is not None
        trust = False
        try:
            for entry in entries:
                self._store.remove(entry)
                self.ctx.log.info("removed %s %s (%s)", entry.use, entry.fingerprint, why)
                trust = trust or entry.use == CSMS_ROOT
        finally:
            self._reload()
            self._report()
            if trust:
                self._trust_changed()

    def _current_csms_roots(self, fallback: str | None) -> list[Installed]:
        return [e for e in self._installed if e.use == CSMS_ROOT and e.fingerprint != fallback]

    def _replace_csms_root(self, new: x509.Certificate, replaced: list[x509.Certificate]) -> None:
        """M05.FR.09/12: the new root stays with the one it replaced as the (only) fallback."""
        from ocpp_station.blocks.certificates import checks  # lazy
        from ocpp_station.blocks.certificates.store import fingerprint  # lazy

        old = checks.replacing_root(new, replaced) if replaced else None
        if old == new:
            return  # the current root installed again (M05.FR.17): the fallback stays
        keep = {fingerprint(new)} | (
            {fingerprint(old)} if old is not None and old != new else set()
        )
        stale = [e for e in self._installed if e.use == CSMS_ROOT and e.fingerprint not in keep]
        if stale:
            self._remove(stale, "replaced under AdditionalRootCertificateCheck")
        fallback = fingerprint(old) if old is not None and old != new else None
        self._save_state(fallback=fallback)

    def _import_configured(self) -> None:
        """The configured ca_file and manufacturer root, once per certificate (see module doc)."""
        cfg = self.ctx.config
        sources = [(CSMS_ROOT, cfg.ca_file), (MANUFACTURER_ROOT, cfg.manufacturer_root)]
        if not any(path for _, path in sources):
            return
        from ocpp_station.blocks.certificates import checks  # lazy: a file is configured
        from ocpp_station.blocks.certificates.store import fingerprint  # lazy

        imported = set(self._state().get("imported", []))
        assert self._store is not None
        changed = False
        for use, path in sources:
            bundle = _read_bundle(path, self.ctx.log)
            for certificate in bundle:
                key = fingerprint(certificate)
                if key in imported:
                    continue
                imported.add(key)
                changed = True
                if not checks.is_ca(certificate):
                    self.ctx.log.warning("%s: a certificate that is not a CA is not imported", path)
                    continue
                issuer = None
                if not checks.directly_issued(certificate, certificate):  # a sub-CA in the file
                    issuer = next(
                        (
                            c
                            for c in [*bundle, *self.roots(use)]
                            if c != certificate and checks.directly_issued(certificate, c)
                        ),
                        None,
                    )
                try:
                    self._store.add(use, certificate, issuer)
                except OSError as exc:
                    self.ctx.log.error("cannot import %s into the certificate store: %s", path, exc)
                    imported.discard(key)
        if changed:
            self._save_state(imported=sorted(imported))
            self._reload()

    def _remember_imported(self, key: str) -> None:
        # A root the CSMS installed that is also in the config file is not imported again
        # after the CSMS deleted it.
        imported = set(self._state().get("imported", []))
        if key not in imported:
            self._save_state(imported=sorted(imported | {key}))

    def _state(self) -> dict[str, Any]:
        return self.ctx.state.load(STATE_KEY) or {}

    def _save_state(self, **changes: Any) -> None:
        self.ctx.state.save(STATE_KEY, {**self._state(), **changes})

    def _additional_root_check(self) -> bool:
        return self.ctx.dm.get_bool(COMPONENT, "AdditionalRootCertificateCheck", default=False)

    def _max_entries(self) -> int:
        var = self.ctx.dm.definitions.by_key.get((COMPONENT, None, "CertificateEntries", None))
        return int(var.max_limit) if var is not None and var.max_limit else DEFAULT_MAX_ENTRIES

    def _report(self) -> None:
        count = str(len(self._installed))
        if self.ctx.dm.get(COMPONENT, "CertificateEntries") != count:
            self.ctx.dm.set(COMPONENT, "CertificateEntries", count)

    def _trust_changed(self) -> None:
        if self._on_trust_changed is not None:
            self._on_trust_changed()

    def describe(self, state: dict[str, Any]) -> None:
        counts: dict[str, int] = {}
        for entry in self._installed:
            counts[entry.use] = counts.get(entry.use, 0) + 1
        state["certificates"] = counts


def _read_bundle(path: Path | None, log: Any) -> list[x509.Certificate]:
    if path is None:
        return []
    from cryptography import x509  # lazy: a certificate file is configured

    try:
        return x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError) as exc:
        log.error("cannot read certificates from %s: %s", path, exc)
        return []


def _refused(status: str, refusal: Refusal) -> dict[str, Any]:
    return {"status": status, "statusInfo": status_info(refusal.reason, refusal.info)}
