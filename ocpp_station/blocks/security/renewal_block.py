"""Client certificate renewal (A02 by request of the CSMS, A03 initiated by the station).

A TriggerMessage(SignChargingStationCertificate) (the trigger block calls :meth:`trigger` after
answering Accepted) or a certificate that expires within a month (A03.FR.02) makes a new key pair,
kept 0600 in ``<data_dir>/certs/station/pending-key.pem`` (it survives a restart, never leaves the
station: A02.FR.05), and a CSR sent as SignCertificateRequest; resent per
``CertSigningWaitMinimum``/``CertSigningRepeatTimes`` (``renewal.py``).  A CertificateSigned is
Accepted only for a chain that passes ``chain.py``; the pair is installed and the station
reconnects with it under security profile 3 (A02.FR.08); the previous pair is kept until a
connection with the new one worked (A02.FR.10) and put back when it does not (A02.FR.28, the
station's :meth:`client_pair` before every connection attempt).  Otherwise Rejected with the
reason and the security event ``InvalidChargingStationCertificate`` (A02.FR.07).

``chain.py`` and ``csr.py`` (``cryptography``) are loaded on the first CSR or CertificateSigned:
a station without a client certificate does not import ``cryptography`` at start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ocpp_station.blocks.base import Block
from ocpp_station.blocks.certificates.layout import CSMS_ROOT
from ocpp_station.blocks.interfaces import SecurityEvents, TrustedRoots
from ocpp_station.blocks.security.renewal import (
    BLOCKED,
    GAVE_UP,
    IDLE,
    Renewal,
    expires_soon,
    next_wake,
    use_previous_pair,
)
from ocpp_station.blocks.security.station_cert import StationCertificateFiles
from ocpp_station.clock import Wake, sleep_or_wake
from ocpp_station.context import Context
from ocpp_station.dispatch.dispatcher import NotReady
from ocpp_station.dispatch.policy import may_send_now
from ocpp_station.ocpp_types import status_info
from ocpp_station.rpc.endpoint import CallTimeout, ConnectionLost, Reply
from ocpp_station.rpc.errors import OCPPError
from ocpp_station.tasks import OnDemand

if TYPE_CHECKING:
    from cryptography import x509

STATE_KEY = "certificate_renewal"
STATION_CERT = "ChargingStationCertificate"
IDLE_LOOK = 3600.0  # seconds between looks when nothing is due (the clock may be set meanwhile)
SEC = "SecurityCtrlr"


class CertificateRenewal(Block):
    def __init__(
        self,
        ctx: Context,
        security: SecurityEvents,
        roots: TrustedRoots,
        *,
        reconnect: Callable[[], Awaitable[None]],
        files: StationCertificateFiles | None = None,
        new_directory: bool = False,
    ) -> None:
        """``new_directory``: the data directory was made at this start (no renewed pair)."""
        super().__init__(ctx)
        cfg = ctx.config
        self.files = files or StationCertificateFiles(
            cfg.data_dir, (cfg.cert_file, cfg.key_file), new=new_directory
        )
        self._security = security
        self._roots = roots
        self._reconnect = reconnect
        self._state = Renewal.from_record(ctx.state.load(STATE_KEY))
        self._wake = Wake()
        # The loop runs while there is something to watch (see _watching): a station without a
        # certificate of its own and no renewal under way (most of a fleet) starts no task.
        self._looper = OnDemand(ctx.spawn, self._loop, "certificate renewal", self._wake)
        self._lock = asyncio.Lock()
        self._new_pair_offered = False  # the last connection attempt used the unconfirmed pair
        ctx.handlers.register("CertificateSigned", self.on_certificate_signed)

    # -- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        self._look()

    async def stop(self) -> None:
        self._looper.stop()

    async def connected(self) -> None:
        if self._new_pair_offered and self.files.unconfirmed():
            # A02.FR.10 (2025-01 errata): the TLS handshake with the new pair worked; the pair
            # not in use is discarded.
            self.files.confirm()
            self.ctx.log.info("the renewed station certificate works; the previous one is deleted")
        self._look()

    async def online(self, first: bool) -> None:
        self._look()

    def describe(self, state: dict[str, Any]) -> None:
        cert = self.station_certificate()
        state["certificate_renewal"] = {
            "phase": self._state.phase,
            "sends": self._state.sends,
            "certificate_serial": None if cert is None else format(cert.serial_number, "x"),
            "certificate_not_after": None if cert is None else cert.not_valid_after_utc.isoformat(),
        }

    # -- for the station and the neighbours -------------------------------------------------------
    def station_certificate(self) -> x509.Certificate | None:
        """StationCertificateSource: the leaf of the client certificate in use."""
        return self.files.certificate()

    def client_pair(self, failed_attempts: int, security_profile: int) -> tuple[str, str] | None:
        """The (cert_file, key_file) of the next connection attempt.  After
        ``NetworkProfileConnectionAttempts`` failed attempts with a renewed pair that never worked,
        the previous pair is put back (A02.FR.28/A03.FR.24) and the CSMS told (A02.FR.29)."""
        attempts = self.ctx.dm.get_int(
            "OCPPCommCtrlr", "NetworkProfileConnectionAttempts", default=3
        )
        if security_profile == 3 and use_previous_pair(
            self.files.unconfirmed(), failed_attempts, attempts
        ):
            if self.files.fall_back():
                self.ctx.log.warning(
                    "no connection with the renewed station certificate after %d attempts; "
                    "back to the previous one",
                    failed_attempts,
                )
                self.ctx.spawn(
                    self._security.raise_event(
                        "DiscardedRenewedClientCertificate",
                        tech_info=f"no connection after {failed_attempts} attempts",
                        critical=True,
                    ),
                    "security event",
                )
        self._new_pair_offered = security_profile == 3 and self.files.unconfirmed()
        pair = self.files.current_pair()
        return None if pair is None else (str(pair[0]), str(pair[1]))

    def trigger_refusal(self) -> str | None:
        """Why a SignChargingStationCertificate trigger cannot be served (None: it can)."""
        if not self.ctx.dm.get(SEC, "OrganizationName"):
            return "SecurityCtrlr.OrganizationName is not set (A02 prerequisite)"
        return None

    async def trigger(self) -> None:
        """TriggerMessage(SignChargingStationCertificate), after the Accepted answer (A02.FR.02)."""
        await self._begin("A02")

    # -- CertificateSigned -----------------------------------------------------------------------
    async def on_certificate_signed(self, payload: dict[str, Any]) -> dict[str, Any] | Reply:
        kind = payload.get("certificateType", STATION_CERT)
        if kind != STATION_CERT:
            # no ISO 15118 (V2G) certificate here: nothing asked for one
            return _rejected("NotSupported", f"{kind} is not used by this station")
        from ocpp_station.blocks.security.chain import ChainRejected, check_chain  # lazy
        from ocpp_station.blocks.security.csr import CsrError, key_from_pem  # lazy

        chain_pem: str = payload["certificateChain"]
        async with self._lock:
            pending = self.files.pending_key_pem()
            try:
                key = None if pending is None else key_from_pem(pending).public_key()
                check_chain(
                    chain_pem,
                    pending_key=key,
                    roots=self._roots.roots(CSMS_ROOT),
                    now=datetime.fromtimestamp(self.ctx.now(), UTC),
                    identity=self._identity(),
                    max_size=self.ctx.dm.get_int(SEC, "MaxCertificateChainSize", default=10000),
                )
            except (ChainRejected, CsrError, ValueError) as exc:
                reason = exc.reason if isinstance(exc, ChainRejected) else "InvalidKey"
                detail = exc.detail if isinstance(exc, ChainRejected) else str(exc)
                # A02.FR.07: Rejected, the certificate discarded, a security event; A02.FR.20:
                # no resend until the CSMS triggers again (an unsolicited one, with no renewal
                # under way, leaves the station's own renewal as it was).
                if self._state.phase != IDLE:
                    self._state.invalid()
                    self.files.drop_pending_key()
                    self._save()
                await self._security.raise_event(
                    "InvalidChargingStationCertificate", tech_info=detail, critical=True
                )
                self.ctx.log.warning("CertificateSigned rejected: %s: %s", reason, detail)
                return _rejected(reason, detail)
            self.files.install(chain_pem)
            self._state.signed()
            self._save()
        self.ctx.log.info("station certificate renewed; reconnecting with it")
        # a new key pair: security parameters changed (appendix event, to the security log)
        await self._security.raise_event(
            "ReconfigurationOfSecurityParameters",
            tech_info="ChargingStationCertificate renewed (CertificateSigned)",
        )
        # A02.FR.08 (2025-01 errata): Accepted, then reconnect the websocket and TLS with it
        return Reply({"status": "Accepted"}, then=self._reconnect)

    # -- the CSR and its resends -----------------------------------------------------------------
    def _identity(self) -> str:
        return self.ctx.dm.get(SEC, "Identity") or self.ctx.config.id

    async def _begin(self, origin: str) -> bool:
        from ocpp_station.blocks.security.csr import (
            CsrError,
            build_csr,
            key_to_pem,
            new_key,
        )  # lazy

        async with self._lock:
            key = new_key()
            try:
                organization = self.ctx.dm.get(SEC, "OrganizationName") or ""
                csr = build_csr(key, self._identity(), organization)
            except CsrError as exc:
                self.ctx.log.error("no certificate signing request: %s", exc)
                return False
            self.files.write_pending_key(key_to_pem(key))
            self._state.start(csr, origin)
            self._save()
        await self._send()
        return True

    async def _send(self) -> None:
        csr = self._state.csr
        if csr is None:
            return
        # the deadline first: a CertificateSigned may come before the SignCertificate answer
        self._state.sent(self.ctx.now(), self._wait_minimum())
        self._save()
        self._looper.wake()
        try:
            answer = await self.ctx.dispatcher.call(
                "SignCertificate",
                {"csr": csr, "certificateType": STATION_CERT},
                triggered=self._state.origin == "A02",
            )
        except (NotReady, CallTimeout, ConnectionLost, OCPPError) as exc:
            self.ctx.log.warning("SignCertificate not answered: %s", exc)
            return
        status = answer.get("status")
        if status != "Accepted":
            self.ctx.log.warning("SignCertificate answered %s; resent after the back-off", status)

    def _wait_minimum(self) -> float:
        return float(self.ctx.dm.get_int(SEC, "CertSigningWaitMinimum", default=60))

    def _save(self) -> None:
        self.ctx.state.save(STATE_KEY, self._state.to_record())

    def _may_send(self) -> bool:
        triggered = self._state.origin == "A02"
        return may_send_now("SignCertificate", self.ctx.link, triggered=triggered)

    def _not_after(self) -> float | None:
        cert = self.station_certificate()
        return None if cert is None else cert.not_valid_after_utc.timestamp()

    async def _tick(self) -> bool:
        """Act on what is due; False when something is due but cannot be done now (offline)."""
        now = self.ctx.now()
        state = self._state
        if state.due(now):
            if not self._may_send():
                return False
            repeat = self.ctx.dm.get_int(SEC, "CertSigningRepeatTimes", default=3)
            if state.expire(repeat):
                await self._send()
            else:
                self._save()
                self.ctx.log.warning(
                    "no certificate after %d SignCertificate requests; waiting for a trigger",
                    state.sends,
                )
            return True
        not_after = self._not_after()
        if state.may_start_by_itself() and not_after is not None and expires_soon(not_after, now):
            if not self.ctx.link.online or not self.ctx.dm.get(SEC, "OrganizationName"):
                return False
            self.ctx.log.info("the station certificate expires within a month; renewing (A03)")
            return await self._begin("A03")
        return True

    def _next_wake(self) -> float | None:
        return next_wake(self._state, self._not_after())  # (reads the certificate in use)

    def _watching(self, wake_at: float | None) -> bool:
        """Anything for the loop to watch (``wake_at``: :meth:`_next_wake`): a renewal under
        way, or a certificate of the station's own whose expiry starts one (A03).  Not when idle
        without one, nor after the station gave up or was refused: a trigger (A02) or a new
        certificate starts it then."""
        return self._state.phase not in (IDLE, GAVE_UP, BLOCKED) or wake_at is not None

    def _look(self) -> None:
        """Wake the loop (start it) when there is something to watch."""
        if self._looper.running or self._watching(self._next_wake()):
            self._looper.wake()

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            ready = await self._tick()
            wake_at = self._next_wake()
            if ready and not self._watching(wake_at):
                return  # (see _watching)
            if not ready or wake_at is None or self._state.phase in (GAVE_UP, BLOCKED):
                delay = IDLE_LOOK
            else:
                delay = min(max(0.0, wake_at - self.ctx.now()), IDLE_LOOK)
            if delay <= 0:
                await asyncio.sleep(0)
                continue
            await sleep_or_wake(self.ctx.clock, delay, self._wake)


def _rejected(reason: str, detail: str) -> dict[str, Any]:
    return {"status": "Rejected", "statusInfo": status_info(reason[:20], detail)}
