"""Variables the local control API watches (``monitor_variables``): every change of their Actual
value is published as ``event_data``, whoever changed it.  Not OCPP monitors: the CSMS never
hears of them.  A key's ``None`` EVSE/connector matches every EVSE/connector."""

from __future__ import annotations

from ocpp_station.blocks.monitoring.monitors import Address

# (component, component instance, evse id, connector id, variable, variable instance)
WatchKey = tuple[str, str | None, int | None, int | None, str, str | None]


def matches(key: WatchKey, address: Address) -> bool:
    return (
        key[0] == address.component
        and key[1] == address.component_instance
        and (key[2] is None or key[2] == address.evse)
        and (key[3] is None or key[3] == address.connector)
        and key[4] == address.variable
        and key[5] == address.variable_instance
    )
