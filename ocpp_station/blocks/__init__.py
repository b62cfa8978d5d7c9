"""The functional blocks of OCPP 2.0.1 the station implements, one module each."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from ocpp_station.blocks.base import Block

if TYPE_CHECKING:
    from ocpp_station.station import Station


@dataclass
class Blocks:
    provisioning: Block

    def all(self) -> list[Block]:
        return [getattr(self, f.name) for f in fields(self)]


def build_blocks(station: Station) -> Blocks:
    from ocpp_station.blocks.provisioning import Provisioning

    return Blocks(provisioning=Provisioning(station))
