"""Monitoring (N02-N08): SetVariableMonitoring, ClearVariableMonitoring, SetMonitoringBase,
SetMonitoringLevel, GetMonitoringReport, and the NotifyEvents of the monitors that fire.

The monitors watch device-model Actual values: every committed change is evaluated at once
(:mod:`.rules`), periodic monitors run on the injected clock.  Fired monitors are published on
the station's bus as OCPP EventDataType (topic ``event_data``) and reported to the CSMS in a
NotifyEvent as :mod:`.events` says (level, offline queuing); so are the variables the local
control API watches (:meth:`MonitoringBlock.watch`, published only).  While offline, monitors
whose NotifyEvent would not be queued are not evaluated; they are evaluated again when the
station is back online (the N07 remark), and so are the others then (N07.FR.14 after a reboot).
The block also writes the charge controller's readings as Actual values (:mod:`.hardware`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from device_model import VariableChange, VariableDef
from hal.types import HalEvent
from ocpp_station.blocks.base import Block
from ocpp_station.blocks.monitoring import events, limits, rules
from ocpp_station.blocks.monitoring.events import Tech
from ocpp_station.blocks.monitoring.hardware import HardwareValues, Write
from ocpp_station.blocks.monitoring.monitors import (
    BASES,
    PERIODIC,
    SEVERITIES,
    Address,
    Monitor,
    MonitorSet,
    resolve,
    still_valid,
    write_only,
)
from ocpp_station.blocks.monitoring.outbox import Outbox
from ocpp_station.blocks.monitoring.predefined import predefined
from ocpp_station.blocks.monitoring.store import MonitorStore
from ocpp_station.blocks.monitoring.watch import WatchKey, matches
from ocpp_station.clock import Wake, sleep_or_wake
from ocpp_station.context import Context
from ocpp_station.ocpp_types import status_info
from ocpp_station.rpc.endpoint import Reply
from ocpp_station.rpc.errors import ErrorCode, OCPPError
from ocpp_station.tasks import OnDemand

CTRLR = limits.CTRLR
STATE_KEY = "monitoring"
IDLE = 3600.0  # seconds the periodic loop sleeps when no periodic monitor is in force


class RunningTransactions(Protocol):
    def transactions(self) -> dict[int, str]: ...


class MonitoringBlock(Block):
    def __init__(self, ctx: Context, sessions: RunningTransactions, store: MonitorStore) -> None:
        super().__init__(ctx)
        self._sessions = sessions
        self._store = store
        self._predefined = predefined(ctx.dm.definitions, ctx.layout)
        self.monitors = MonitorSet()
        self._watched: set[WatchKey] = set()
        self._hardware = HardwareValues()
        self._tech: dict[Address, Tech] = {}
        self._outbox = Outbox(ctx)
        self._wake = Wake()
        # the periodic monitors' loop runs once one is due (started by the first)
        self._periodic = OnDemand(ctx.spawn, self._periodic_loop, "monitoring.periodic", self._wake)
        self._next_event_id = 1
        self._unsubscribe: Any = None
        self._unsubscribe_bus: Any = None
        for action, handler in (
            ("SetVariableMonitoring", self.on_set_variable_monitoring),
            ("ClearVariableMonitoring", self.on_clear_variable_monitoring),
            ("SetMonitoringBase", self.on_set_monitoring_base),
            ("SetMonitoringLevel", self.on_set_monitoring_level),
            ("GetMonitoringReport", self.on_get_monitoring_report),
        ):
            ctx.handlers.register(action, handler)

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        record = self.ctx.state.load(STATE_KEY) or {}
        self._next_event_id = int(record.get("next_event_id", 1))
        if record.get("initialised"):
            kept, gone = still_valid(self.ctx.dm.definitions, self.ctx.dm, self._store.load())
            if gone:
                self._store.delete(m.id for m in gone)
            hard_wired = [m for m in self._predefined if m.kind == "HardWiredMonitor"]
            self.monitors = MonitorSet([*hard_wired, *kept])
            if record.get("next_event_id") != self._next_event_id:  # unchanged: not rewritten
                self._save_record()
        else:  # first start: the factory-default monitors (ActiveMonitoringBase's default),
            # stored with the first write that changes them (none at the start itself)
            self.monitors.set_base("FactoryDefault", self._predefined)
            self._store.defer_defaults(self.monitors, also=self._write_record)
        now = self.ctx.now()
        for monitor in self.monitors:
            self._prime(monitor, now)  # Part 1 4.4: a reboot sets a new Delta reference
        self._unsubscribe = self.ctx.dm.subscribe(self._on_change)
        topics = ("ocpp_transaction_event",)
        self._unsubscribe_bus = self.ctx.bus.subscribe(self._on_publication, topics=topics)
        if any(m.due is not None for m in self.monitors):
            self._periodic.wake()

    async def stop(self) -> None:
        self._periodic.stop()
        self._outbox.stop()
        for unsubscribe in (self._unsubscribe, self._unsubscribe_bus):
            if unsubscribe is not None:
                unsubscribe()
        self._unsubscribe = self._unsubscribe_bus = None

    async def online(self, first: bool) -> None:
        self._evaluate_all()

    async def hal_event(self, event: HalEvent) -> None:
        self.hal_input(event)

    def hal_input(self, event: HalEvent) -> None:  # (done on return: no coroutine)
        for write in self._hardware.writes(event):
            self._write(write)

    def watch(self, keys: Iterable[WatchKey]) -> None:
        """Publish ``event_data`` whenever the Actual value of one of these variables changes
        (the local control API's ``monitor_variables``)."""
        self._watched.update(keys)

    # -- CSMS → station --------------------------------------------------------------------------
    async def on_set_variable_monitoring(self, payload: dict[str, Any]) -> Reply:
        items = payload["setMonitoringData"]
        limits.check_limits(self.ctx.dm, payload, len(items), "SetVariableMonitoring")  # N04.FR.09
        results, fresh = [], []
        reserved = [m.id for m in self._predefined]
        for item in items:  # N04.FR.01/02: one result per item, same component and variable
            result = {k: item[k] for k in ("type", "severity", "component", "variable")}
            address = Address.of(item["component"], item["variable"])
            status, var = resolve(self.ctx.dm.definitions, self.ctx.dm, address)
            if var is None:  # N04.FR.03, N04.FR.04
                what = (
                    f"no component {address.component} here"
                    if status == "UnknownComponent"
                    else f"{address.component} has no variable {address.variable}"
                )
                result["status"] = status
                result["statusInfo"] = status_info("NotFound", what)
                results.append(result)
                continue
            outcome = self.monitors.check(item, var, reserved=reserved)
            result["status"] = outcome.status
            if outcome.monitor is not None:  # N04.FR.08, N04.FR.11, N04.FR.12
                self._prime(outcome.monitor, self.ctx.now())
                self.monitors.apply(outcome)
                self._store.save([outcome.monitor])
                result["id"] = outcome.monitor.id
                fresh.append(outcome.monitor)
            elif outcome.info is not None:
                result["statusInfo"] = outcome.info
            results.append(result)
        self._periodic.wake()
        return Reply({"setMonitoringResult": results}, then=lambda: self._after(fresh))

    async def on_clear_variable_monitoring(self, payload: dict[str, Any]) -> dict[str, Any]:
        ids = payload["id"]  # (the limits: N06.FR.06/07)
        limits.check_limits(self.ctx.dm, payload, len(ids), "ClearVariableMonitoring")
        results = [self.monitors.clear(i) for i in ids]  # N06.FR.05
        self._store.delete(r["id"] for r in results if r["status"] == "Accepted")
        return {"clearMonitoringResult": results}

    async def on_set_monitoring_base(self, payload: dict[str, Any]) -> dict[str, Any] | Reply:
        base = payload["monitoringBase"]
        if base not in BASES:  # N03.FR.02
            info = status_info("UnsupportedParam", f"monitoringBase {base}")
            return {"status": "NotSupported", "statusInfo": info}
        before = set(self.monitors.by_id)
        self.monitors.set_base(base, self._predefined)  # N03.FR.03-05
        now = self.ctx.now()
        fresh = [m for m in self.monitors if m.id not in before]
        for monitor in fresh:
            self._prime(monitor, now)
        self._store.replace_all(self.monitors)
        for name in ("ActiveMonitoringBase", "MonitoringBase"):
            self.ctx.dm.set(CTRLR, name, base)
        self._periodic.wake()
        return Reply({"status": "Accepted"}, then=lambda: self._after(fresh))  # N03.FR.01

    async def on_set_monitoring_level(self, payload: dict[str, Any]) -> dict[str, Any]:
        severity = payload["severity"]
        if severity not in SEVERITIES:  # N05.FR.02
            info = status_info("ValueOutOfRange", f"severity {severity} is not 0-9")
            return {"status": "Rejected", "statusInfo": info}
        for name in ("ActiveMonitoringLevel", "MonitoringLevel"):
            self.ctx.dm.set(CTRLR, name, severity)
        return {"status": "Accepted"}  # N05.FR.01

    async def on_get_monitoring_report(self, payload: dict[str, Any]) -> dict[str, Any] | Reply:
        from ocpp_station.blocks.monitoring import report  # lazy: GetMonitoringReport only

        criteria = payload.get("monitoringCriteria") or []
        cvs = payload.get("componentVariable") or []
        limit = self._limit("DeviceDataCtrlr", "ItemsPerMessage", "GetReport")
        if limit and len(cvs) > limit:  # N02.FR.07
            raise OCPPError(
                ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
                f"{len(cvs)} componentVariable, more than ItemsPerMessage[GetReport] = {limit}",
            )
        unknown = [c for c in criteria if c not in report.CRITERIA]
        if unknown:  # N02.FR.02
            info = status_info("UnsupportedParam", f"monitoringCriteria {unknown}")
            return {"status": "NotSupported", "statusInfo": info}
        chosen = report.select(self.monitors, criteria, cvs)
        if not chosen:  # N02.FR.10
            info = status_info("NotFound", "no monitor matches the criteria")
            return {"status": "EmptyResultSet", "statusInfo": info}
        parts = report.parts(
            payload["requestId"],
            report.monitoring_data(chosen),
            limit or len(chosen),
            self.ctx.timestamp(),
        )
        return Reply({"status": "Accepted"}, then=lambda: self._send_report(parts))

    async def _send_report(self, parts: list[dict[str, Any]]) -> None:
        for part in parts:  # N02.FR.03/04/09; part of answering the CSMS's request
            answer = await self.ctx.dispatcher.send("NotifyMonitoringReport", part, reply=True)
            if answer is None:
                self.ctx.log.warning("NotifyMonitoringReport part %s not sent", part["seqNo"])
                return

    # -- evaluation ------------------------------------------------------------------------------
    def _on_change(self, change: VariableChange) -> None:
        if change.attribute != "Actual":
            return
        address = Address.of(change.component, change.variable)
        var = self.ctx.dm.definitions.by_key.get(address.variable_key)
        if var is None:
            return
        if not write_only(var) and any(matches(k, address) for k in self._watched):
            event = events.watched_event(
                address, change.new, event_id=self._event_id(), timestamp=self.ctx.timestamp()
            )
            self._outbox.publish(event)
            self._save_record()
        firings = []
        for monitor in self.monitors.on(address):
            if self._evaluated(monitor):
                firing = rules.on_value(monitor, change.new, var.data_type)
                if firing is not None:
                    firings.append(firing)
        self._deliver(firings, self._tech.get(address))

    def _on_publication(self, topic: str, data: Any) -> None:
        """A transaction started: its transaction monitors become active and are checked."""
        if topic == "ocpp_transaction_event" and data.get("eventType") == "Started":
            self._evaluate([m for m in self.monitors if m.transaction])

    def _evaluated(self, monitor: Monitor) -> bool:
        """Whether a value monitor is evaluated now: monitoring is enabled, the monitor active,
        and, while offline, its events would be queued (else it waits until online)."""
        if monitor.type in PERIODIC or not self._enabled():
            return False
        if not events.active(monitor.transaction, monitor.address, self._sessions.transactions()):
            return False
        return not self.ctx.link.offline or events.kept_offline(
            monitor.severity, self._offline_severity()
        )

    def _evaluate_all(self) -> None:
        """Every value monitor against its variable's current value (back online, N07.FR.14;
        a monitor just set or modified, N07.FR.11)."""
        self._evaluate(list(self.monitors))

    def _evaluate(self, monitors: list[Monitor]) -> None:
        firings = []
        for monitor in monitors:
            var = self.ctx.dm.definitions.by_key.get(monitor.address.variable_key)
            if var is not None and self._evaluated(monitor):
                firing = rules.on_value(monitor, self._value(var, monitor.address), var.data_type)
                if firing is not None:
                    firings.append(firing)
        self._deliver(firings, None)

    async def _after(self, monitors: list[Monitor]) -> None:
        self._evaluate(monitors)  # N07.FR.11: a new or modified threshold is checked at once

    def _fire_periodic(self) -> None:
        now = self.ctx.now()
        firings = []
        for monitor in self.monitors:
            var = self.ctx.dm.definitions.by_key.get(monitor.address.variable_key)
            if var is None or monitor.type not in PERIODIC:
                continue
            firing = rules.periodic_due(monitor, now, self._value(var, monitor.address))
            if firing is None or not self._enabled():
                continue
            if events.active(monitor.transaction, monitor.address, self._sessions.transactions()):
                firings.append(firing)
        self._deliver(firings, None)

    def _deliver(self, firings: list[rules.Firing], tech: Tech | None) -> None:
        if not firings:
            return
        self._store.save(f.monitor for f in firings if f.cleared is not None)  # N07.FR.14
        transactions = self._sessions.transactions()
        level, offline_severity = self._level(), self._offline_severity()
        value_size = self._limit("DeviceDataCtrlr", "ReportingValueSize", None) or 2500
        kept: list[dict[str, Any]] = []
        dropped: list[dict[str, Any]] = []
        stamp = self.ctx.timestamp()
        for firing in firings:
            monitor = firing.monitor
            var = self.ctx.dm.definitions.by_key[monitor.address.variable_key]
            data = events.event_data(
                firing,
                event_id=self._event_id(),
                timestamp=stamp,
                write_only=write_only(var),
                value_size=value_size,
                tech=tech,
                transaction_id=events.transaction_for(monitor.address, transactions)
                if monitor.transaction
                else None,
            )
            self._outbox.publish(data)
            if events.reported(monitor.severity, level):  # N07.FR.15
                keep = events.kept_offline(monitor.severity, offline_severity)
                (kept if keep else dropped).append(data)
        self._save_record()
        for group, keep in ((kept, True), (dropped, False)):
            if group:
                self._outbox.notify(events.notify_event(group, stamp), keep)

    # -- loops -----------------------------------------------------------------------------------
    async def _periodic_loop(self) -> None:
        while True:
            dues = [m.due for m in self.monitors if m.due is not None]
            delay = min(dues) - self.ctx.now() if dues else IDLE
            await sleep_or_wake(self.ctx.clock, max(0.0, delay), self._wake)
            self._wake.clear()
            self._fire_periodic()

    # -- helpers ---------------------------------------------------------------------------------
    def _prime(self, monitor: Monitor, now: float) -> None:
        """The runtime state of a monitor put in force: its Delta reference, its first periodic
        event."""
        var = self.ctx.dm.definitions.by_key.get(monitor.address.variable_key)
        if monitor.type == "Delta" and var is not None:
            monitor.reference = self._value(var, monitor.address)
        rules.schedule(monitor, now)

    def _write(self, write: Write) -> None:
        """A value from the charge controller; its fault code goes with the events it fires."""
        address = Address(write.component, None, write.evse or 0, 0, write.variable, None)
        if write.tech is not None:
            self._tech[address] = write.tech
        try:
            value = write.value
            var = self.ctx.dm.definitions.by_key.get(address.variable_key)
            if var is not None and var.data_type == "decimal":
                # a reading beyond the variable's range is capped to it: a car charging at 3 x
                # 32 A x 230 V = 22,080 W above a 22,000 W maxLimit must not be refused each time
                inside = limits.capped(var, value)
                if inside is not None and float(inside) != float(value):
                    value = inside
            self.ctx.dm.set(write.component, write.variable, value, evse=write.evse)
        finally:
            self._tech.pop(address, None)

    def _value(self, var: VariableDef, address: Address) -> str | None:
        return self.ctx.dm.value_of(var, "Actual", address.evse, address.connector)

    def _event_id(self) -> int:
        value = self._next_event_id
        self._next_event_id += 1
        return value

    def _save_record(self) -> None:
        self._store.record(self._write_record)  # with the deferred defaults, if any

    def _write_record(self) -> None:
        self.ctx.state.save(STATE_KEY, {"initialised": True, "next_event_id": self._next_event_id})

    def _enabled(self) -> bool:
        return self.ctx.dm.get_bool(CTRLR, "Enabled", default=True)

    def _level(self) -> int:
        return self.ctx.dm.get_int(CTRLR, "ActiveMonitoringLevel", default=9)

    def _offline_severity(self) -> int:
        return self.ctx.dm.get_int(CTRLR, "OfflineQueuingSeverity", default=-1)

    def _limit(self, component: str, variable: str, instance: str | None) -> int:
        return limits.limit(self.ctx.dm, component, variable, instance)
