"""How the station connects: the transport it builds and what each connection attempt presents
and trusts — the password (A01), the client certificate in use (A02/A03), the installed CSMS
roots (M05), the network connection profile of the attempt (B09/B10) — and the reconnects a
change of credentials asks for.  :class:`~ocpp_station.station.StationCore` inherits these."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from device_model import DeviceModel
from ocpp_station import settings
from ocpp_station.clock import Clock
from ocpp_station.config import StationConfig
from ocpp_station.rpc.endpoint import RpcEndpoint
from ocpp_station.transport import Transport, TransportConfig

if TYPE_CHECKING:  # typing only: the station builds its blocks at start
    from ocpp_station.wiring import Blocks


class StationLink:
    config: StationConfig
    dm: DeviceModel
    blocks: Blocks
    rpc: RpcEndpoint
    transport: Transport
    base_clock: Clock
    log: logging.Logger
    # Hears why each failed connection attempt failed (a fleet, while the station starts: one
    # that failed for want of descriptors stops the fleet's starts; ``ocpp_station.fleet``).
    on_connection_failed: Callable[[BaseException | None], None] | None = None
    spawn: Callable[..., Any]
    _on_connect: Callable[[], Awaitable[None]]
    _on_disconnect: Callable[[], None]

    def _make_transport(self) -> Transport:
        return Transport(
            TransportConfig(
                csms_url=self.config.csms_url,
                station_id=self.config.id,
                security_profile=self.config.security_profile,
                password=self._password(),
                ca_file=str(self.config.ca_file) if self.config.ca_file else None,
                cert_file=str(self.config.cert_file) if self.config.cert_file else None,
                key_file=str(self.config.key_file) if self.config.key_file else None,
            ),
            on_connect=self._on_connect,
            on_message=self.rpc.on_message,
            on_disconnect=self._on_disconnect,
            backoff=lambda: settings.backoff(self.dm),
            ping_interval=lambda: settings.ping_interval(self.dm),
            clock=self.base_clock,
            logger=self.log,
            # network connection profiles (B10): the slot of each attempt, same credentials
            select=lambda: self.blocks.networking.config_for(
                self.transport.config, self._password()
            ),
            on_attempt=self._attempt_done,
            before_attempt=self._before_attempt,
            on_connect_failed=lambda kind, detail: self.spawn(  # A00.FR.310/316/323, 401/403
                self.blocks.security.connection_failed(kind, detail), "security event"
            ),
        )

    def _attempt_done(self, connected: bool) -> None:
        """After each connection attempt: the network profiles count it (B10); a failed one's
        error goes to :attr:`on_connection_failed`."""
        self.blocks.networking.attempt_done(connected)
        if not connected and self.on_connection_failed is not None:
            self.on_connection_failed(self.transport.last_error)

    def _password(self) -> str | None:
        # The device model's value wins: a CSMS may have set a new one (A01).
        return self.dm.get("SecurityCtrlr", "BasicAuthPassword") or self.config.password

    async def _reconnect_with_new_password(self) -> None:
        """A01: the CSMS set a new BasicAuthPassword (and got its answer): every connection from
        now on uses it, starting with a new one now.  Queued messages stay queued."""
        self.transport.config.password = self._password()
        if self.transport.config.security_profile in (1, 2):
            await self.rpc.settled()  # the answers the station still waits for come first
            await self.transport.reconnect()

    async def _reconnect_with_new_certificate(self) -> None:
        """A02.FR.08: a renewed client certificate is installed; under security profile 3 the
        station reconnects with it now (queued messages stay queued)."""
        if self.transport.config.security_profile == 3:
            await self.rpc.settled()
            await self.transport.reconnect()

    def _before_attempt(self) -> None:
        """Before every connection attempt (its network profile selected): the client
        certificate and key to present (the renewed pair in ``<data_dir>/certs/station/`` when
        there is one, else the config's) and the CSMS roots to trust."""
        config = self.transport.config
        pair = self.blocks.renewal.client_pair(
            self.transport.failed_attempts, config.security_profile
        )
        if pair is not None:
            config.cert_file, config.key_file = pair
        # M05.FR.15/16: migrating to another slot's CSMS, the new root alone verifies it;
        # back on the slot that worked, the fallback root of M05.FR.12 is trusted again.
        self._trust_changed(with_fallback=not self.blocks.networking.migrating())

    def _trust_changed(self, *, with_fallback: bool = True) -> None:
        """The installed CSMS roots (M05) are what the next TLS connection trusts.  The
        configured ``ca_file`` was imported into them; it is still loaded itself only when it holds
        a certificate the store did not take (a pinned server certificate that is no CA)."""
        transport = getattr(self, "transport", None)
        if transport is None:
            return
        certificates = self.blocks.certificates
        roots = certificates.csms_roots_pem(with_fallback=with_fallback)
        ca_file = self.config.ca_file
        # Without a ca_file and without installed roots the system CAs verify the CSMS; with a
        # ca_file whose roots were all deleted nothing does (M04 remark: no connection then).
        transport.config.ca_data = roots if roots or ca_file else None
        transport.config.ca_file = (
            str(ca_file) if ca_file and certificates.config_ca_file_needed() else None
        )
