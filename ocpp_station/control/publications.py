"""The station's publications shaped as EVerest's ``ocpp`` interface types (seed 004).

The blocks publish OCPP-shaped data on the station's event bus (what an embedding application
receives in-process); this module turns each topic into the snake_case types the local control
API promises its socket clients.  The shapes are described in ``control_api.schema.json``.
"""

from __future__ import annotations

from typing import Any

from ocpp_station.control.naming import to_snake


def transaction_event(payload: dict[str, Any]) -> dict[str, Any]:
    """A TransactionEventRequest as EVerest's OcppTransactionEvent."""
    out: dict[str, Any] = {
        "transaction_event": payload["eventType"],
        "transaction_id": payload["transactionInfo"]["transactionId"],
        "session_id": payload["transactionInfo"]["transactionId"],
    }
    if "evse" in payload:
        evse = payload["evse"]
        out["evse"] = {"id": evse["id"]}
        if "connectorId" in evse:
            out["evse"]["connector_id"] = evse["connectorId"]
    return out


def message_content(message: dict[str, Any]) -> dict[str, Any]:
    """MessageContentType as EVerest's MessageContent (format, language, content)."""
    return {k: message[k] for k in ("format", "language", "content") if k in message}


def transaction_event_response(data: dict[str, Any]) -> dict[str, Any]:
    """``{"request", "response"}`` as EVerest's OcppTransactionEventResponse."""
    response = data["response"]
    out: dict[str, Any] = {"original_transaction_event": transaction_event(data["request"])}
    if "totalCost" in response:
        out["total_cost"] = response["totalCost"]
    if "chargingPriority" in response:
        out["charging_priority"] = response["chargingPriority"]
    # the message for the driver: the update of this answer, else the one of its idTokenInfo
    message = response.get("updatedPersonalMessage") or response.get("idTokenInfo", {}).get(
        "personalMessage"
    )
    if message:
        out["personal_message"] = message_content(message)
    return out


def charging_schedules(schedules: list[dict[str, Any]]) -> dict[str, Any]:
    """CompositeScheduleTypes (EVSE 0 first) as EVerest's ChargingSchedules."""
    return {
        "schedules": [
            {
                "evse": s["evseId"],
                "charging_rate_unit": s["chargingRateUnit"],
                "charging_schedule_period": [
                    {
                        "start_period": p["startPeriod"],
                        "limit": p["limit"],
                        "number_phases": p["numberPhases"],
                    }
                    for p in s["chargingSchedulePeriod"]
                ],
                "duration": s["duration"],
                "start_schedule": s["scheduleStart"],
            }
            for s in schedules
        ]
    }


def security_event(event: dict[str, Any]) -> dict[str, Any]:
    """A raised security event as EVerest's SecurityEvent (type, info, timestamp, critical)."""
    out: dict[str, Any] = {
        "type": event["type"],
        "timestamp": event["timestamp"],
        "critical": event["critical"],
    }
    if "techInfo" in event:
        out["info"] = event["techInfo"]
    return out


def event_data(event: dict[str, Any]) -> dict[str, Any]:
    """An OCPP EventDataType as EVerest's EventData: snake_case, the component and variable
    under ``component_variable``."""
    rest = {k: v for k, v in event.items() if k not in ("component", "variable")}
    out: dict[str, Any] = {
        "component_variable": {
            "component": to_snake(event["component"]),
            "variable": to_snake(event["variable"]),
        }
    }
    out.update(to_snake(rest))
    return out


def display_messages(data: dict[str, Any]) -> dict[str, Any]:
    """The lines on the station's display (``{"lines": [...]}``), snake_case."""
    return {"lines": [to_snake(line) for line in data["lines"]]}


def shape(topic: str, data: Any) -> Any:
    """The control-API form of one publication."""
    if topic == "ocpp_transaction_event":
        return transaction_event(data)
    if topic == "ocpp_transaction_event_response":
        return transaction_event_response(data)
    if topic == "charging_schedules":
        return charging_schedules(data)
    if topic == "security_event":
        return security_event(data)
    if topic == "event_data":
        return event_data(data)
    if topic == "boot_notification_response":
        return to_snake(data)
    if topic == "display_messages":
        return display_messages(data)
    return data  # is_connected: a bool
