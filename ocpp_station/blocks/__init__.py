"""The functional blocks of OCPP 2.0.1 the station implements, one module each."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from ocpp_station.blocks.base import Block

if TYPE_CHECKING:
    from ocpp_station.blocks.authorization.block import AuthorizationBlock
    from ocpp_station.blocks.availability.block import AvailabilityBlock
    from ocpp_station.blocks.provisioning.block import Provisioning
    from ocpp_station.blocks.reset.block import ResetBlock
    from ocpp_station.blocks.security.block import SecurityBlock
    from ocpp_station.blocks.smart_charging.block import SmartChargingBlock
    from ocpp_station.blocks.transactions.block import TransactionsBlock
    from ocpp_station.blocks.trigger.block import TriggerBlock
    from ocpp_station.station import Station


@dataclass
class Blocks:
    provisioning: Provisioning
    availability: AvailabilityBlock
    authorization: AuthorizationBlock
    transactions: TransactionsBlock
    smart_charging: SmartChargingBlock
    reset: ResetBlock
    trigger: TriggerBlock
    security: SecurityBlock

    def all(self) -> list[Block]:
        return [getattr(self, f.name) for f in fields(self)]


def build_blocks(station: Station) -> Blocks:
    from ocpp_station.blocks.authorization.block import AuthorizationBlock
    from ocpp_station.blocks.availability.block import AvailabilityBlock
    from ocpp_station.blocks.provisioning.block import Provisioning
    from ocpp_station.blocks.reset.block import ResetBlock
    from ocpp_station.blocks.security.block import SecurityBlock
    from ocpp_station.blocks.smart_charging.block import SmartChargingBlock
    from ocpp_station.blocks.transactions.block import TransactionsBlock
    from ocpp_station.blocks.trigger.block import TriggerBlock

    return Blocks(
        provisioning=Provisioning(station),
        availability=AvailabilityBlock(station),
        authorization=AuthorizationBlock(station),
        transactions=TransactionsBlock(station),
        smart_charging=SmartChargingBlock(station),
        reset=ResetBlock(station),
        trigger=TriggerBlock(station),
        security=SecurityBlock(station),
    )
