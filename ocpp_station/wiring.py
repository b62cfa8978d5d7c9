"""The functional blocks and how they are wired: built in dependency order, each given the
context and the other blocks it needs through narrow interfaces (no block can go looking for its
neighbours)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ocpp_station.blocks.authorization.block import AuthorizationBlock
from ocpp_station.blocks.availability.block import AvailabilityBlock
from ocpp_station.blocks.base import Block
from ocpp_station.blocks.certificates import layout
from ocpp_station.blocks.certificates.block import CertificatesBlock
from ocpp_station.blocks.customer.block import CustomerBlock
from ocpp_station.blocks.data_transfer.block import DataTransferBlock
from ocpp_station.blocks.data_transfer.handlers import DataTransferRegistry
from ocpp_station.blocks.diagnostics.block import DiagnosticsBlock
from ocpp_station.blocks.display.block import DisplayBlock
from ocpp_station.blocks.display.interface import display_of
from ocpp_station.blocks.firmware import install
from ocpp_station.blocks.firmware.block import FirmwareBlock
from ocpp_station.blocks.interfaces import StationCertificateSource
from ocpp_station.blocks.local_list.block import LocalListBlock
from ocpp_station.blocks.local_list.store import ListStore
from ocpp_station.blocks.monitoring.block import MonitoringBlock
from ocpp_station.blocks.monitoring.store import MonitorStore
from ocpp_station.blocks.networking.block import NetworkingBlock
from ocpp_station.blocks.provisioning.block import Provisioning
from ocpp_station.blocks.reservation.block import ReservationBlock
from ocpp_station.blocks.reset.block import ResetBlock
from ocpp_station.blocks.security.block import SecurityBlock
from ocpp_station.blocks.security.events import time_adjustment_reported
from ocpp_station.blocks.security.log import SecurityLogStore
from ocpp_station.blocks.security.renewal_block import CertificateRenewal
from ocpp_station.blocks.smart_charging.block import SmartChargingBlock
from ocpp_station.blocks.smart_charging.store import ProfileStore
from ocpp_station.blocks.tariff.block import TariffBlock
from ocpp_station.blocks.transactions.block import TransactionsBlock
from ocpp_station.blocks.transactions.sessions import Sessions
from ocpp_station.blocks.trigger.block import TriggerBlock
from ocpp_station.context import Context
from ocpp_station.storage import StationStore

if TYPE_CHECKING:
    from cryptography import x509

    from ocpp_station.blocks.certificates.store import RootStore


@dataclass
class Blocks:
    """The functional blocks, in the order they are built, started and told of a connection."""

    provisioning: Provisioning
    security: SecurityBlock
    renewal: CertificateRenewal
    certificates: CertificatesBlock
    networking: NetworkingBlock
    local_list: LocalListBlock
    authorization: AuthorizationBlock
    availability: AvailabilityBlock
    reservation: ReservationBlock
    smart_charging: SmartChargingBlock
    transactions: TransactionsBlock
    reset: ResetBlock
    firmware: FirmwareBlock
    diagnostics: DiagnosticsBlock
    customer: CustomerBlock
    trigger: TriggerBlock
    data_transfer: DataTransferBlock
    monitoring: MonitoringBlock
    display: DisplayBlock
    tariff: TariffBlock

    def all(self) -> list[Block]:
        return [
            self.provisioning,
            self.security,
            self.renewal,
            self.certificates,
            self.networking,
            self.local_list,
            self.authorization,
            self.availability,
            self.reservation,
            self.smart_charging,
            self.transactions,
            self.reset,
            self.firmware,
            self.diagnostics,
            self.customer,
            self.trigger,
            self.data_transfer,
            self.monitoring,
            self.display,
            self.tariff,
        ]

    @functools.cached_property
    def hal_consumers(self) -> tuple[Block, ...]:
        """Who hears a HAL event, in this order: availability first, so a connector's status
        (and the unplug rule, which asks whether a transaction is still running) sees the plug
        change before the transaction engine reacts to it and possibly ends the transaction.
        Monitoring comes last: it writes the readings as device-model values for the monitors."""
        return (self.availability, self.transactions, self.monitoring)


class _LaterRoots:
    """The certificate store's roots (a ``TrustedRoots``), for the renewal built before it."""

    store: CertificatesBlock | None = None

    def roots(self, use: str) -> list[x509.Certificate]:
        return self.store.roots(use) if self.store is not None else []


@dataclass
class BlockStores:
    """The stores of the blocks that read their rows at start, on the station store's
    connection: :meth:`open` them in the thread that opens the station store, so a start reads
    none of them on the event loop."""

    local_list: ListStore
    profiles: ProfileStore

    @classmethod
    def open(cls, store: StationStore) -> BlockStores:
        """(A store just made, ``store.fresh``, has empty tables: then nothing is read.)"""
        stores = cls.on(store)
        stores.local_list.preload(empty=store.fresh)
        stores.profiles.preload(empty=store.fresh)  # kept: the store is the table's only writer
        return stores

    @classmethod
    def on(cls, store: StationStore) -> BlockStores:
        """The stores on ``store``'s connection, for its station's rows (nothing read)."""
        key = store.station
        return cls(
            ListStore(store.connection, station=key),
            ProfileStore(store.connection, has_table=True, station=key),
        )


def build_blocks(
    ctx: Context,
    store: StationStore,
    *,
    stores: BlockStores | None = None,
    on_accepted: Callable[[bool], Awaitable[None]],
    restart: Callable[[str], None],
    reconnect: Callable[[], Awaitable[None]],
    data_transfers: DataTransferRegistry | None = None,
    install_firmware: install.InstallStep | None = None,
    station_certificate: StationCertificateSource | None = None,
    on_trust_changed: Callable[[], None] | None = None,
    reconnect_tls: Callable[[], Awaitable[None]] | None = None,
) -> Blocks:
    """The blocks, each given what it needs; the order is the dependency order.  ``reconnect``
    opens a new connection with the current credentials (after a new BasicAuthPassword, A01);
    ``data_transfers`` holds the integrator's DataTransfer handlers (kept over a reset);
    ``install_firmware`` is the embedding application's firmware install step (else the
    configured command, else the ``sim`` backend's default); ``station_certificate`` names the
    station's own certificate (default: the configured ``cert_file``); ``on_trust_changed`` is
    called when the installed CSMS roots changed (the TLS trust of the next connection);
    ``reconnect_tls`` opens a new connection with a renewed client certificate (A02.FR.08)."""
    sessions = Sessions()  # written by the transactions block, read by the others
    # the start event (StartupOfTheDevice / ResetOrReboot) by the boot reason provisioning
    # loaded (it starts before security)
    log_store = SecurityLogStore(store.connection, station=store.station, empty=store.fresh)
    security = SecurityBlock(ctx, log_store, boot_reason=lambda: provisioning.boot_reason)
    # The certificate store and the renewal need each other, both only when called: the
    # renewal checks a CertificateSigned chain against the installed roots (A02.FR.06), the
    # store refuses to delete the certificate the renewal has in use (M04.FR.06).
    roots = _LaterRoots()
    renewal = CertificateRenewal(
        ctx,
        security,
        roots,
        reconnect=reconnect_tls if reconnect_tls is not None else reconnect,
        new_directory=store.new_directory,
    )
    certificates = CertificatesBlock(
        ctx,
        open_store=lambda: _open_root_store(ctx),
        # (a data directory this start made holds no certificate: no look on disk)
        stored=lambda: not store.new_directory and layout.any_installed(ctx.config.data_dir),
        station_certificate=station_certificate or renewal,
        on_trust_changed=on_trust_changed,
        security=security,
    )
    roots.store = certificates

    async def password_changed() -> None:
        # A01.FR.11: the change goes to the security log (never the password, A01.FR.12).
        await security.raise_event(
            "ReconfigurationOfSecurityParameters",
            tech_info="SecurityCtrlr.BasicAuthPassword set by the CSMS",
        )
        await reconnect()

    async def clock_adjusted(adjustment: float) -> None:
        threshold = ctx.dm.get_float("ClockCtrlr", "TimeAdjustmentReportingThreshold", default=20)
        if time_adjustment_reported(adjustment, threshold):
            await security.raise_event(
                "SettingSystemTime", tech_info=f"clock set by {adjustment:+.3f} s to the CSMS time"
            )

    provisioning = Provisioning(
        ctx,
        on_accepted=on_accepted,
        on_password_changed=password_changed,
        on_clock_adjusted=clock_adjusted,
    )
    networking = NetworkingBlock(
        ctx,
        registration=provisioning,
        security=security,
        missing_credentials=lambda level: missing_credentials(
            level,
            has_csms_root=bool(certificates.csms_roots_pem() or ctx.config.ca_file),
            has_station_certificate=renewal.station_certificate() is not None,
        ),
    )
    opened = stores or BlockStores.on(store)
    local_list = LocalListBlock(ctx, open_store=lambda: opened.local_list)
    authorization = AuthorizationBlock(ctx, local_list)
    availability = AvailabilityBlock(ctx, sessions)
    reservation = ReservationBlock(ctx, availability)
    smart_charging = SmartChargingBlock(ctx, sessions, open_store=lambda: opened.profiles)
    transactions = TransactionsBlock(
        ctx,
        sessions,
        authorization=authorization,
        availability=availability,
        smart_charging=smart_charging,
        queue=store.messages,
        reservations=reservation,
    )
    reset = ResetBlock(
        ctx,
        sessions=transactions,
        availability=availability,
        registration=provisioning,
        queue=store.messages,
        restart=restart,
    )
    cfg = ctx.config
    firmware = FirmwareBlock(
        ctx,
        sessions=transactions,
        availability=availability,
        registration=provisioning,
        security=security,
        restart=restart,
        install=install.resolve(
            install_firmware,
            cfg.firmware_install_command,
            reboot=cfg.firmware_reboot_after_install,
            backend=cfg.hal_backend,
        ),
        roots=certificates,
    )
    diagnostics = DiagnosticsBlock(ctx, security_log=security)
    customer = CustomerBlock(ctx, [authorization, local_list])
    data_transfer = DataTransferBlock(
        ctx, data_transfers if data_transfers is not None else DataTransferRegistry()
    )
    # the display shows what the HAL (or the embedding application's controller) can show
    display = DisplayBlock(ctx, sessions, display_of(ctx.hal))
    tariff = TariffBlock(ctx, display)
    authorization.on_answer(tariff.authorized)
    trigger = TriggerBlock(
        ctx,
        provisioning,
        availability,
        transactions,
        firmware=firmware,
        logs=diagnostics,
        certificates=renewal,
    )
    return Blocks(
        provisioning=provisioning,
        security=security,
        renewal=renewal,
        certificates=certificates,
        networking=networking,
        local_list=local_list,
        authorization=authorization,
        availability=availability,
        reservation=reservation,
        smart_charging=smart_charging,
        transactions=transactions,
        reset=reset,
        firmware=firmware,
        diagnostics=diagnostics,
        customer=customer,
        trigger=trigger,
        data_transfer=data_transfer,
        monitoring=MonitoringBlock(
            ctx, sessions, MonitorStore(store.connection, station=store.station)
        ),
        display=display,
        tariff=tariff,
    )


def _open_root_store(ctx: Context) -> RootStore:
    # cryptography only when the store is opened (not at start without certificates)
    from ocpp_station.blocks.certificates.store import RootStore  # lazy

    return RootStore.in_data_dir(ctx.config.data_dir)


def missing_credentials(
    level: int, *, has_csms_root: bool, has_station_certificate: bool
) -> str | None:
    """What security profile ``level`` needs that this station lacks (A05.FR.02/03): an installed
    CSMS root certificate for 2 and 3 (InstallCertificate, or ``[station] ca_file``), a station
    certificate for 3 (``cert_file``/``key_file``, or a renewed one).  None: nothing missing."""
    if level >= 2 and not has_csms_root:
        return f"security profile {level} needs a CSMS root certificate (none is installed)"
    if level == 3 and not has_station_certificate:
        return "security profile 3 needs a station certificate (none is installed)"
    return None
