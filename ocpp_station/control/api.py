"""The station's local control API (DESIGN.md §3), shaped like EVerest's ``ocpp`` interface.

Field names are the snake_case of seed files 001/004 (``component_variable``, ``attribute_type``,
``connector_id``...); they are converted to and from OCPP's camelCase at this edge only, so the
device model and the blocks see exactly what a CSMS would send.
"""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING, Any

from device_model import VariableChange
from ocpp_station.control.server import ControlError, ControlServer, require

if TYPE_CHECKING:
    from ocpp_station.station import Station

SIM_METHODS = ("plug_in", "unplug", "present_id_token", "ev_state", "fault", "clear_fault")

# OCPP 2.0.1 appendix 1 (security events): the ones the specification marks critical are sent to
# the CSMS as SecurityEventNotification; the rest only go to the security log (A04.FR.02).
CRITICAL_SECURITY_EVENTS = frozenset(
    {
        "FirmwareUpdated",
        "SettingSystemTime",
        "StartupOfTheDevice",
        "ResetOrReboot",
        "SecurityLogWasCleared",
        "MemoryExhaustion",
        "TamperDetectionActivated",
        "MaintenanceLoginAccepted",
        "MaintenanceLoginFailed",
    }
)

_CAMEL = re.compile(r"_([a-z0-9])")
_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def to_camel(obj: Any) -> Any:
    """snake_case keys → camelCase (``connector_id`` → ``connectorId``), recursively."""
    if isinstance(obj, dict):
        return {_CAMEL.sub(lambda m: m.group(1).upper(), k): to_camel(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_camel(v) for v in obj]
    return obj


def to_snake(obj: Any) -> Any:
    """camelCase keys → snake_case, recursively."""
    if isinstance(obj, dict):
        return {_SNAKE.sub("_", k).lower(): to_snake(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_snake(v) for v in obj]
    return obj


def _component_variable(item: Any, index: int) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ControlError("InvalidParams", f"requests[{index}] must be an object")
    cv = item.get("component_variable")
    if not isinstance(cv, dict):
        raise ControlError("InvalidParams", f"requests[{index}].component_variable is required")
    comp, var = cv.get("component"), cv.get("variable")
    if not isinstance(comp, dict) or not isinstance(comp.get("name"), str):
        raise ControlError(
            "InvalidParams", f"requests[{index}].component_variable.component.name is required"
        )
    if not isinstance(var, dict) or not isinstance(var.get("name"), str):
        raise ControlError(
            "InvalidParams", f"requests[{index}].component_variable.variable.name is required"
        )
    return cv


class ControlApi:
    """Registers the station's methods on a :class:`ControlServer` and forwards publications."""

    def __init__(self, station: Station, server: ControlServer) -> None:
        self.st = station
        self.server = server
        self._monitored: set[tuple[str, str | None, str, str | None]] = set()
        self._event_ids = itertools.count(1)
        methods = {
            "get_variables": self.get_variables,
            "set_variables": self.set_variables,
            "monitor_variables": self.monitor_variables,
            "change_availability": self.change_availability,
            "security_event": self.security_event,
            "stop": self.stop,
            "restart": self.restart,
            "status": self.status,
        }
        for name, method in methods.items():
            server.add(name, method)
        for name in SIM_METHODS:
            server.add(f"sim.{name}", self._sim_method(name))
        station.bus.subscribe(server.publish)
        self._unsubscribe = station.dm.subscribe(self._on_change)

    def close(self) -> None:
        self._unsubscribe()

    # -- device model --------------------------------------------------------------------------
    async def get_variables(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        requests = require(params, "requests", list)
        data = []
        for i, item in enumerate(requests):
            cv = _component_variable(item, i)
            entry: dict[str, Any] = to_camel(cv)
            if "attribute_type" in item:
                entry["attributeType"] = item["attribute_type"]
            data.append(entry)
        results = self.st.dm.get_variables(data)
        return [self._result(r) for r in results]

    async def set_variables(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        requests = require(params, "requests", list)
        source = require(params, "source", str)
        data = []
        for i, item in enumerate(requests):
            cv = _component_variable(item, i)
            value = item.get("value")
            if not isinstance(value, str):
                raise ControlError("InvalidParams", f"requests[{i}].value must be a string")
            entry: dict[str, Any] = {**to_camel(cv), "attributeValue": value}
            if "attribute_type" in item:
                entry["attributeType"] = item["attribute_type"]
            data.append(entry)
        results = self.st.dm.set_variables(data, source=source)
        return [self._result(r) for r in results]

    @staticmethod
    def _result(result: dict[str, Any]) -> dict[str, Any]:
        """OCPP Get/SetVariableResult → the EverEst GetVariableResult/SetVariableResult shape."""
        out: dict[str, Any] = {
            "status": result["attributeStatus"],
            "component_variable": {
                "component": to_snake(result["component"]),
                "variable": to_snake(result["variable"]),
            },
            "attribute_type": result.get("attributeType", "Actual"),
        }
        if "attributeValue" in result:
            out["value"] = result["attributeValue"]
        return out

    async def monitor_variables(self, params: dict[str, Any]) -> None:
        cvs = require(params, "component_variables", list)
        for i, cv in enumerate(cvs):
            _component_variable({"component_variable": cv}, i)
            comp, var = cv["component"], cv["variable"]
            self._monitored.add(
                (comp["name"], comp.get("instance"), var["name"], var.get("instance"))
            )

    def _on_change(self, change: VariableChange) -> None:
        key = (
            change.component.get("name", ""),
            change.component.get("instance"),
            change.variable.get("name", ""),
            change.variable.get("instance"),
        )
        if key not in self._monitored or change.attribute != "Actual":
            return
        data = {
            "component_variable": {
                "component": to_snake(change.component),
                "variable": to_snake(change.variable),
            },
            "event_id": next(self._event_ids),
            "timestamp": self.st.timestamp(),
            "trigger": "Delta",
            "actual_value": change.new,
            "event_notification_type": "CustomMonitor",
        }
        self.st.spawn(self.st.publish("event_data", data), "event_data")

    # -- availability, security, lifecycle -------------------------------------------------------
    async def change_availability(self, params: dict[str, Any]) -> dict[str, Any]:
        request = require(params, "request", dict)
        status = request.get("operational_status")
        if status not in ("Operative", "Inoperative"):
            raise ControlError(
                "InvalidParams",
                "request.operational_status must be 'Operative' or 'Inoperative'",
            )
        evse = request.get("evse")
        if evse is not None and (not isinstance(evse, dict) or not isinstance(evse.get("id"), int)):
            raise ControlError("InvalidParams", "request.evse must be an object with an integer id")
        payload: dict[str, Any] = {"operationalStatus": status}
        if evse is not None:
            payload["evse"] = to_camel(evse)
        response = await self.st.blocks.availability.change(payload)  # type: ignore[attr-defined]
        result: dict[str, Any] = to_snake(response)
        return result

    async def security_event(self, params: dict[str, Any]) -> None:
        event = require(params, "event", dict)
        kind = event.get("type")
        if not isinstance(kind, str) or not kind:
            raise ControlError("InvalidParams", "event.type must be a non-empty string")
        timestamp = event.get("timestamp") or self.st.timestamp()
        critical = event.get("critical")
        if critical is None:
            critical = kind in CRITICAL_SECURITY_EVENTS
        data = {**event, "timestamp": timestamp, "critical": bool(critical)}
        await self.st.publish("security_event", data)
        if critical:
            payload: dict[str, Any] = {"type": kind[:50], "timestamp": timestamp}
            if isinstance(event.get("info"), str):
                payload["techInfo"] = event["info"][:255]
            await self.st.blocks.security.notify(payload)  # type: ignore[attr-defined]

    async def stop(self, params: dict[str, Any]) -> bool:
        await self.st.stop_ocpp()
        return True

    async def restart(self, params: dict[str, Any]) -> bool:
        await self.st.restart_ocpp()
        return True

    async def status(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.st.status()

    # -- simulator -----------------------------------------------------------------------------
    def _sim_method(self, name: str) -> Any:
        async def method(params: dict[str, Any]) -> Any:
            target = getattr(self.st.hal, name, None)
            if target is None:
                raise ControlError(
                    "NotSupported",
                    f"sim.{name} needs the 'sim' HAL backend (this station uses "
                    f"{self.st.config.hal_backend!r}; drive controller-sim's socket instead)",
                )
            try:
                result = target(**params)
            except TypeError as exc:
                raise ControlError("InvalidParams", f"sim.{name}: {exc}") from None
            except ValueError as exc:  # SimError: unknown EVSE, bad state...
                raise ControlError("InvalidParams", f"sim.{name}: {exc}") from None
            if hasattr(result, "__await__"):
                result = await result
            return {"ok": True} if result is None else result

        return method
