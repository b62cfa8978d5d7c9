"""TriggerMessage (use case F06): the CSMS asks the station to send one of its messages now.

``Accepted`` is answered first and the message follows (F06.FR.04), sent as a triggered message
(the dispatcher lets it through while the registration is Pending).  A BootNotification after an
Accepted registration is ``Rejected`` (F06.FR.17); an unknown EVSE or connector is ``Rejected``;
what the station does not send is ``NotImplemented``.  SignChargingStationCertificate starts the
client certificate renewal (A02; Rejected while ``SecurityCtrlr.OrganizationName`` is unset).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from ocpp_station.blocks.base import Block
from ocpp_station.context import Context
from ocpp_station.ocpp_types import status_info
from ocpp_station.rpc.endpoint import CallTimeout, ConnectionLost, Reply
from ocpp_station.rpc.errors import OCPPError


class Registration(Protocol):
    async def send_boot(self, reason: str | None = None) -> dict[str, Any]: ...

    async def heartbeat(self, *, triggered: bool = False) -> None: ...


class StatusReports(Protocol):
    async def report(
        self, evse: int | None, connector: int | None, *, triggered: bool = False
    ) -> None: ...


class TransactionReports(Protocol):
    async def trigger(self, requested: str, evse: int | None) -> None: ...


class ProcessStatus(Protocol):
    """A block with a status of its own to report: the firmware update (L01.FR.25/26), the log
    upload (N01.FR.13)."""

    async def report_status(self, *, triggered: bool = False) -> None: ...


class CertificateSigning(Protocol):
    """The client certificate renewal (A02): why a trigger cannot be served, and the CSR."""

    def trigger_refusal(self) -> str | None: ...

    async def trigger(self) -> None: ...


class TriggerBlock(Block):
    def __init__(
        self,
        ctx: Context,
        registration: Registration,
        statuses: StatusReports,
        transactions: TransactionReports,
        *,
        firmware: ProcessStatus | None = None,
        logs: ProcessStatus | None = None,
        certificates: CertificateSigning | None = None,
    ) -> None:
        super().__init__(ctx)
        self._registration = registration
        self._statuses = statuses
        self._transactions = transactions
        self._firmware = firmware
        self._logs = logs
        self._certificates = certificates
        ctx.handlers.register("TriggerMessage", self.on_trigger_message)

    async def on_trigger_message(self, payload: dict[str, Any]) -> Reply:
        requested = payload["requestedMessage"]
        evse = payload.get("evse")
        evse_id: int | None = evse.get("id") if evse else None
        connector_id: int | None = evse.get("connectorId") if evse else None
        layout = self.ctx.layout
        if evse_id is not None and evse_id != 0 and not layout.has(evse_id):
            return _answer("Rejected", "UnknownEvse", f"no EVSE {evse_id}")
        if evse_id and connector_id is not None and not layout.has(evse_id, connector_id):
            return _answer("Rejected", "UnknownConnector", f"no connector {connector_id}")
        if requested == "SignChargingStationCertificate" and self._certificates is not None:
            refusal = self._certificates.trigger_refusal()
            if refusal is not None:
                return _answer("Rejected", "NotEnabled", refusal)
        action = self._action(requested, evse_id or None, connector_id)
        if action is None:
            if requested == "BootNotification":
                # F06.FR.17: no BootNotification trigger once the registration is Accepted.
                return _answer("Rejected", "NotPermitted", "registration already Accepted")
            return _answer("NotImplemented", "UnsupportedRequest", f"{requested} not supported")
        return Reply({"status": "Accepted"}, then=action)

    def _action(
        self, requested: str, evse: int | None, connector: int | None
    ) -> Callable[[], Awaitable[None]] | None:
        if requested == "BootNotification":
            if self.ctx.link.registration == "Accepted":
                return None
            return self._boot
        if requested == "Heartbeat":
            return lambda: self._registration.heartbeat(triggered=True)
        if requested == "StatusNotification":
            return lambda: self._statuses.report(evse, connector, triggered=True)
        if requested in ("MeterValues", "TransactionEvent"):
            return lambda: self._transactions.trigger(requested, evse)
        if requested in ("FirmwareStatusNotification", "LogStatusNotification"):
            source = self._firmware if requested == "FirmwareStatusNotification" else self._logs
            if source is not None:
                return lambda: source.report_status(triggered=True)
            # No such block: nothing is being updated or uploaded, the status is Idle.
            return lambda: self._idle(requested)
        if requested == "SignChargingStationCertificate" and self._certificates is not None:
            return self._certificates.trigger  # A02: the key pair and CSR follow the answer
        return None

    async def _boot(self) -> None:
        try:
            # F06: a BootNotification the CSMS asked for gives reason Triggered.
            await self._registration.send_boot(reason="Triggered")
        except (CallTimeout, OCPPError, ConnectionLost) as exc:
            self.ctx.log.warning("triggered BootNotification failed: %s", exc)

    async def _idle(self, action: str) -> None:
        await self.ctx.dispatcher.send(action, {"status": "Idle"}, triggered=True)


def _answer(status: str, reason: str, info: str) -> Reply:
    return Reply({"status": status, "statusInfo": status_info(reason, info)})
