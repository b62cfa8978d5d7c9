"""What a fired monitor sends: EventData and the NotifyEventRequest (N07, N08), and who hears it.

- Every fired monitor gives one EventDataType: component, variable and ``variableMonitoringId``
  (N07.FR.06), the trigger, ``cleared`` for threshold monitors, the Actual value (empty for a
  write-only variable, N07.FR.10; cut to ``DeviceDataCtrlr.ReportingValueSize``), the
  ``eventNotificationType`` of the monitor's kind, ``techCode``/``techInfo`` when the value came
  from the charge controller with a fault code, and ``transactionId`` for a transaction monitor.
- The EventData of one evaluation go out in one NotifyEventRequest, ``seqNo`` 0 and ``tbc``
  false (N07.FR.07, N08.FR.04).
- Only monitors whose severity number is at most the monitoring level are reported to the CSMS
  (N05.FR.03, N07.FR.15); while the station is offline, those at most
  ``OfflineQueuingSeverity`` are kept in the queue (N07.FR.04, N08.FR.03).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ocpp_station.blocks.monitoring.monitors import THRESHOLDS, Address
from ocpp_station.blocks.monitoring.rules import Firing

TECH_CODE_MAX = 50
TECH_INFO_MAX = 500


@dataclass(frozen=True, slots=True)
class Tech:
    """The charge controller's note on a value it reported (a fault code)."""

    code: str
    info: str | None = None


def event_data(
    firing: Firing,
    *,
    event_id: int,
    timestamp: str,
    write_only: bool = False,
    value_size: int = 2500,
    tech: Tech | None = None,
    transaction_id: str | None = None,
) -> dict[str, Any]:
    """The EventDataType of one fired monitor."""
    monitor = firing.monitor
    out: dict[str, Any] = {
        "eventId": event_id,
        "timestamp": timestamp,
        "trigger": firing.trigger,
        "actualValue": "" if write_only else firing.actual_value[: max(0, value_size)],
        "eventNotificationType": monitor.kind,
        "component": monitor.address.component_dict(),
        "variable": monitor.address.variable_dict(),
        "variableMonitoringId": monitor.id,
    }
    if monitor.type in THRESHOLDS:
        out["cleared"] = bool(firing.cleared)
    if tech is not None:
        out["techCode"] = tech.code[:TECH_CODE_MAX]
        if tech.info:
            out["techInfo"] = tech.info[:TECH_INFO_MAX]
    if transaction_id is not None:
        out["transactionId"] = transaction_id
    return out


def watched_event(address: Address, value: str, *, event_id: int, timestamp: str) -> dict[str, Any]:
    """The EventDataType published for a variable the local control API watches
    (``monitor_variables``): not an OCPP monitor, so no variableMonitoringId."""
    return {
        "eventId": event_id,
        "timestamp": timestamp,
        "trigger": "Delta",
        "actualValue": value,
        "eventNotificationType": "CustomMonitor",
        "component": address.component_dict(),
        "variable": address.variable_dict(),
    }


def notify_event(events: Sequence[dict[str, Any]], generated_at: str) -> dict[str, Any]:
    """One NotifyEventRequest: the first and only part (N07.FR.07, N08.FR.04)."""
    return {"generatedAt": generated_at, "seqNo": 0, "tbc": False, "eventData": list(events)}


def reported(severity: int, level: int) -> bool:
    """N05.FR.03, N07.FR.15: the CSMS hears of monitors up to the monitoring level only."""
    return severity <= level


def kept_offline(severity: int, offline_severity: int) -> bool:
    """N07.FR.04, N08.FR.03: queued while offline (and evaluated while offline: the others wait
    until the station is back online, as the N07 remark recommends)."""
    return severity <= offline_severity


def transaction_for(address: Address, transactions: dict[int, str]) -> str | None:
    """The transaction an event of a transaction monitor belongs to: the one on the monitored
    EVSE, or the only one running for a component of the station as a whole."""
    if address.evse:
        return transactions.get(address.evse)
    if len(transactions) == 1:
        return next(iter(transactions.values()))
    return None


def active(transaction: bool, address: Address, transactions: dict[int, str]) -> bool:
    """A transaction monitor is active only while a transaction runs on a component relevant to
    it: its EVSE, or any EVSE for a component of the station as a whole."""
    if not transaction:
        return True
    return address.evse in transactions if address.evse else bool(transactions)
