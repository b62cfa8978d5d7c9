"""The narrow views blocks take of each other (by constructor), shared where several blocks
need the same one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from cryptography import x509


class FinishedSessions(Protocol):
    """Which EVSEs are busy, and a call when a transaction ended (the transactions block)."""

    def busy_evses(self) -> set[int]: ...

    def add_finished_listener(self, listener: Callable[[int], Awaitable[None]]) -> None: ...


class Holds(Protocol):
    """The station's own Unavailable for idle EVSEs (the availability block)."""

    async def hold(self, held: set[int]) -> None: ...


class BootReason(Protocol):
    """The reason the next BootNotification gives (the provisioning block)."""

    def set_boot_reason(self, reason: str) -> None: ...


class SecurityEvents(Protocol):
    """Raising a security event (the security block)."""

    async def raise_event(
        self, kind: str, *, tech_info: str | None = None, critical: bool | None = None
    ) -> dict[str, Any]: ...


class StationCertificateSource(Protocol):
    """The station's own (client) certificate, the one DeleteCertificate may not remove
    (M04.FR.06): by default the configured ``cert_file``; the renewal (A02/A03) provides the one
    in use."""

    def station_certificate(self) -> x509.Certificate | None: ...


class ManufacturerRoots(Protocol):
    """The installed ManufacturerRootCertificates firmware signing certificates are checked
    against (L01; the certificates block)."""

    def manufacturer_roots(self) -> list[x509.Certificate]: ...


class TrustedRoots(Protocol):
    """The installed root certificates of one ``use`` (an InstallCertificateUse, e.g.
    ``CSMSRootCertificate``): the certificate store, or the config's ``ca_file``."""

    def roots(self, use: str) -> list[x509.Certificate]: ...


class Registration(Protocol):
    """Start the registration again: the next connection sends BootNotification and, once
    Accepted, goes online as after a boot (the provisioning block; B10.FR.10)."""

    def forget_registration(self) -> None: ...
