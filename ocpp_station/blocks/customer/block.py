"""Customer information (use cases N09 get, N10 clear): CustomerInformation.

The station holds customer data in the blocks that keep tokens — the authorization cache and
the local authorization list (each a :class:`CustomerData`; N10.FR.03 keeps the list out of a
clear: it is reported, not removed).  The data is keyed by idToken; a request by
``customerCertificate`` or ``customerIdentifier`` finds nothing the station keeps under those,
and is answered with "no data" (N09.FR.06).  The rules and the report parts are
:mod:`~ocpp_station.blocks.customer.report`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from ocpp_station.blocks.base import Block
from ocpp_station.context import Context
from ocpp_station.ocpp_types import status_info
from ocpp_station.rpc.endpoint import Reply


class CustomerData(Protocol):
    """A block that holds data about customers, by idToken."""

    def customer_records(self, id_token: dict[str, Any]) -> list[dict[str, Any]]: ...

    def clear_customer(self, id_token: dict[str, Any]) -> int: ...


class CustomerBlock(Block):
    def __init__(self, ctx: Context, sources: Sequence[CustomerData]) -> None:
        super().__init__(ctx)
        self._sources = list(sources)
        ctx.handlers.register("CustomerInformation", self.on_customer_information)

    async def on_customer_information(self, payload: dict[str, Any]) -> Reply:
        from ocpp_station.blocks.customer import report  # lazy: CustomerInformation only

        status = report.decide(payload)
        if status == "Invalid":
            info = "give exactly one of idToken, customerCertificate, customerIdentifier"
            return Reply({"status": status, "statusInfo": status_info("InvalidValue", info)})
        if status == "Rejected":
            info = "neither report nor clear requested"
            return Reply({"status": status, "statusInfo": status_info("InvalidValue", info)})
        return Reply({"status": status}, then=lambda: self._answer(payload))

    async def _answer(self, payload: dict[str, Any]) -> None:
        from ocpp_station.blocks.customer import report  # lazy: CustomerInformation only

        id_token = payload.get("idToken")
        records: list[dict[str, Any]] = []
        cleared = 0
        if id_token is not None:
            for source in self._sources:
                records.extend(source.customer_records(id_token))
            if payload.get("clear"):
                cleared = sum(source.clear_customer(id_token) for source in self._sources)
        text = report.report_text(
            report.describe(records), report=bool(payload.get("report")), cleared=cleared
        )
        generated = self.ctx.timestamp()
        for part in report.notifications(text, int(payload["requestId"]), generated):
            # Part of answering the CSMS's request: it may go while registration is Pending.
            answer = await self.ctx.dispatcher.send("NotifyCustomerInformation", part, reply=True)
            if answer is None:
                self.ctx.log.warning("NotifyCustomerInformation part %s not sent", part["seqNo"])
                return
