"""The station's local control API (``docs/control-api.md``), shaped like EVerest's ``ocpp``
interface.

Field names are the snake_case of seed files 001/004 (``component_variable``, ``attribute_type``,
``connector_id``...); they are converted to and from OCPP's camelCase at this edge only, so the
device model and the blocks see exactly what a CSMS would send.  Every method's params are checked
against ``schemas/control_api.schema.json`` before it runs (``InvalidParams`` naming the field);
the same file describes the results and publications.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from device_model import MalformedRequest
from ocpp_station.blocks.monitoring.watch import WatchKey
from ocpp_station.control.data_transfer import (
    DEFAULT_REPLY_TIMEOUT,
    INCOMING_TOPIC,
    ClientHandlers,
    failure_out,
    request_in,
    response_out,
)
from ocpp_station.control.naming import to_camel, to_snake
from ocpp_station.control.publications import shape
from ocpp_station.control.schema import (
    check_params,
)
from ocpp_station.control.server import ControlError, ControlServer, require
from ocpp_station.events import TOPICS

if TYPE_CHECKING:  # typing only: the runtime station builds its control API with itself
    from ocpp_station.runtime import Station

SIM_METHODS = ("plug_in", "unplug", "present_id_token", "ev_state", "fault", "clear_fault")

# The station's publications, plus the DataTransfer requests for control-API handlers.
CONTROL_TOPICS = (*TOPICS, INCOMING_TOPIC)


def _write_only(var: Any) -> bool:
    actual = var.attributes.get("Actual")
    return actual is not None and actual.mutability == "WriteOnly"


def _ocpp_item(item: dict[str, Any]) -> dict[str, Any]:
    """EVerest Get/SetVariableRequest → OCPP Get/SetVariableDataType (without the value)."""
    entry: dict[str, Any] = to_camel(item["component_variable"])
    if "attribute_type" in item:
        entry["attributeType"] = item["attribute_type"]
    return entry


def _watch_key(cv: dict[str, Any]) -> WatchKey:
    comp, var = cv["component"], cv["variable"]
    evse = comp.get("evse") or {}
    return (
        comp["name"],
        comp.get("instance") or None,
        evse.get("id"),
        evse.get("connector_id"),
        var["name"],
        var.get("instance") or None,
    )


class ControlApi:
    """Registers the station's methods on a :class:`ControlServer` and forwards publications."""

    def __init__(self, station: Station, server: ControlServer) -> None:
        self.st = station
        self.server = server
        self._monitored: set[WatchKey] = set()  # kept across a reset (the core restarts)
        methods = {
            "get_variables": self.get_variables,
            "set_variables": self.set_variables,
            "monitor_variables": self.monitor_variables,
            "change_availability": self.change_availability,
            "security_event": self.security_event,
            "data_transfer": self.data_transfer,
            "register_data_transfer": self.register_data_transfer,
            "data_transfer_reply": self.data_transfer_reply,
            "stop": self.stop,
            "restart": self.restart,
            "status": self.status,
        }
        for name, method in methods.items():
            server.add(name, method)
        for name in SIM_METHODS:
            server.add(f"sim.{name}", self._sim_method(name))
        server.check_params = check_params
        self._unsubscribe_bus = station.subscribe(self._forward)
        self._client_handlers = ClientHandlers(server.publish, station.clock)
        self._registrations: dict[tuple[str, str | None], Callable[[], None]] = {}

    async def _forward(self, topic: str, data: Any) -> None:
        await self.server.publish(topic, shape(topic, data))

    def attach(self) -> None:
        """The station core (re)started: it watches the monitored variables again."""
        self.st.watch_variables(self._monitored)

    def detach(self) -> None:
        """The station core stops (its blocks go; what was asked for stays here)."""

    def close(self) -> None:
        """Detach from the station; the server stays up."""
        self.detach()
        self._unsubscribe_bus()
        for unregister in self._registrations.values():
            unregister()
        self._registrations.clear()
        self._client_handlers.close()

    # -- device model --------------------------------------------------------------------------
    async def get_variables(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """EVerest ``get_variables``: OCPP B06 rules, EVerest GetVariableResult shapes."""
        requests = require(params, "requests", list)
        data = [_ocpp_item(item) for item in requests]
        try:
            results = self.st.dm.get_variables(data)
        except MalformedRequest as exc:
            raise ControlError("InvalidParams", f"get_variables: {exc.message}") from None
        return [self._result(r) for r in results]

    async def set_variables(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """EVerest ``set_variables``: OCPP B05 rules (ReadOnly, limits, valuesList...); the device
        model's change events carry ``source``."""
        requests = require(params, "requests", list)
        source = require(params, "source", str)
        data = [{**_ocpp_item(item), "attributeValue": item["value"]} for item in requests]
        try:
            results = self.st.dm.set_variables(data, source=source)
        except MalformedRequest as exc:
            raise ControlError("InvalidParams", f"set_variables: {exc.message}") from None
        return [self._result(r) for r in results]

    @staticmethod
    def _result(result: dict[str, Any]) -> dict[str, Any]:
        """OCPP Get/SetVariableResult → the EVerest GetVariableResult/SetVariableResult shape,
        plus ``status_info`` (snake_case StatusInfoType) saying why it was not Accepted."""
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
        if "attributeStatusInfo" in result:
            out["status_info"] = to_snake(result["attributeStatusInfo"])
        return out

    async def monitor_variables(self, params: dict[str, Any]) -> None:
        """EVerest ``monitor_variables``: from now on publish ``event_data`` when the Actual value
        of one of these variables changes, whoever changed it (the station's monitoring block
        publishes it on the bus, shaped by :mod:`ocpp_station.control.publications`).  An
        unknown variable is refused (it could never fire), and so is a write-only one."""
        cvs = require(params, "component_variables", list)
        keys = []
        definitions = self.st.dm.definitions
        for i, cv in enumerate(cvs):
            key = _watch_key(cv)
            if (key[0], key[1]) not in definitions.components:
                raise ControlError(
                    "InvalidParams",
                    f"monitor_variables: component_variables[{i}]: unknown component {key[0]!r}"
                    + (f" instance {key[1]!r}" if key[1] else ""),
                )
            var = definitions.by_key.get((key[0], key[1], key[4], key[5]))
            if var is None:
                raise ControlError(
                    "InvalidParams",
                    f"monitor_variables: component_variables[{i}]: component {key[0]} has no "
                    f"variable {key[4]!r}" + (f" instance {key[5]!r}" if key[5] else ""),
                )
            if _write_only(var):
                raise ControlError(
                    "InvalidParams",
                    f"monitor_variables: component_variables[{i}]: {key[4]} is write-only: its "
                    "value is never published",
                )
            keys.append(key)
        self._monitored.update(keys)
        self.st.watch_variables(keys)

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
        response = await self.st.change_availability(payload)
        result: dict[str, Any] = to_snake(response)
        return result

    async def security_event(self, params: dict[str, Any]) -> None:
        event = require(params, "event", dict)
        kind = event.get("type")
        if not isinstance(kind, str) or not kind:
            raise ControlError("InvalidParams", "event.type must be a non-empty string")
        info = event.get("info")
        await self.st.raise_security_event(
            kind,
            timestamp=event.get("timestamp"),
            tech_info=info if isinstance(info, str) else None,
            critical=event.get("critical"),
        )

    # -- data transfer (P01, P02) ----------------------------------------------------------------
    async def data_transfer(self, params: dict[str, Any]) -> dict[str, Any]:
        """Send a DataTransfer to the CSMS (P02); EVerest's DataTransferResponse, with status
        ``Offline`` when the CSMS could not be asked or did not answer."""
        payload = request_in(require(params, "request", dict))
        try:
            answer = await self.st.data_transfer(
                payload["vendorId"],
                payload.get("messageId"),
                payload.get("data"),
                custom_data=payload.get("customData"),
            )
        except ValueError as exc:
            raise ControlError("InvalidParams", f"data_transfer: {exc}") from None
        except Exception as exc:
            failed = failure_out(exc, connected=self.st.connected)
            if failed is None:
                raise
            return failed
        return response_out(answer)

    async def register_data_transfer(self, params: dict[str, Any]) -> None:
        """Answer the CSMS's DataTransfers of ``vendor_id`` (and ``message_id``) from control-API
        clients: published on ``data_transfer_incoming``, answered by ``data_transfer_reply``."""
        vendor_id = require(params, "vendor_id", str)
        message_id = params.get("message_id")
        timeout = float(params.get("timeout", DEFAULT_REPLY_TIMEOUT))
        key = (vendor_id, message_id)
        handler = self._client_handlers.handler(timeout)
        try:
            self._registrations[key] = self.st.register_data_transfer(
                vendor_id, handler, message_id
            )
        except ValueError as exc:
            raise ControlError("InvalidParams", f"register_data_transfer: {exc}") from None

    async def data_transfer_reply(self, params: dict[str, Any]) -> None:
        self._client_handlers.reply(require(params, "id", int), require(params, "response", dict))

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
