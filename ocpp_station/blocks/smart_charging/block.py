"""Smart charging (use cases K01–K10, K15–K17): profiles from the CSMS, composite schedules, and the
limit that the charge controller must obey.

Validation, storage and schedule maths are pure (``ocpp_station/smart_charging/``); this block
answers SetChargingProfile / ClearChargingProfile / GetChargingProfiles / GetCompositeSchedule,
installs the TxProfile of a RequestStartTransaction, and keeps every EVSE's HAL current limit equal
to its composite limit: recomputed on each profile change, transaction start or end, and at the
next period boundary.  Each time a limit, the installed profiles or the running transactions
change, ``charging_schedules`` is published with one composite schedule per EVSE plus EVSE 0 for
the station (seeds 001/004).  SmartChargingCtrlr.Entries[ChargingProfiles] counts the installed
profiles (its ``maxLimit`` caps them); ReportChargingProfiles are split per EVSE and limit source
and at DeviceDataCtrlr.ItemsPerMessage[GetReport].
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, cast

from ocpp_station.blocks.base import Block
from ocpp_station.blocks.smart_charging.composite import EvseContext, composite_schedule, limit_at
from ocpp_station.blocks.smart_charging.store import (
    TX_PROFILE,
    ProfileStore,
    StoredProfile,
    same_slot,
)
from ocpp_station.blocks.smart_charging.validation import ValidationContext, validate_profile
from ocpp_station.clock import sleep_or_wake
from ocpp_station.rpc.endpoint import CallTimeout, ConnectionLost, Reply
from ocpp_station.rpc.errors import OCPPError

if TYPE_CHECKING:
    from ocpp_station.blocks.transactions.block import TransactionsBlock
    from ocpp_station.blocks.transactions.engine import EvseTransaction
    from ocpp_station.station import Station

PUBLISHED_HORIZON = 86400  # seconds of composite schedule published on charging_schedules
_ENTRIES_KEY = ("SmartChargingCtrlr", None, "Entries", "ChargingProfiles")


class SmartChargingBlock(Block):
    def __init__(self, station: Station) -> None:
        super().__init__(station)
        rpc = station.rpc
        rpc.register("SetChargingProfile", self.on_set_charging_profile)
        rpc.register("ClearChargingProfile", self.on_clear_charging_profile)
        rpc.register("GetChargingProfiles", self.on_get_charging_profiles)
        rpc.register("GetCompositeSchedule", self.on_get_composite_schedule)
        self.store: ProfileStore
        # evse -> the TxProfile of a RequestStartTransaction whose transaction has not started yet
        # (the transactions block puts it here); setting one wakes the enforcement loop.
        self.pending_tx_profile: dict[int, dict[str, Any]] = _WakingDict(self.wake)
        self.limits: dict[int, tuple[float, int]] = {}
        self._published_inputs: tuple[Any, ...] | None = None
        self._task: asyncio.Task[Any] | None = None
        self._wake = asyncio.Event()

    async def start(self) -> None:
        self.store = ProfileStore(self.st.config.data_dir / "profiles.db")
        self.limits = {}
        self._published_inputs = None
        # K02.FR.05: TxProfiles of transactions that ended while the station was down go.
        running = set(self._transactions().values())
        for stored in self.store.find(purposes=[TX_PROFILE]):
            if stored.transaction_id not in running:
                self.store.remove_transaction(stored.transaction_id or "", stored.evse_id)
        self._changed()  # Entries[ChargingProfiles] is not persistent: count what is stored
        self._task = self.st.spawn(self._enforce_loop(), "smart-charging")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self.store.close()

    # -- context ---------------------------------------------------------------------------------
    def _engines(self) -> dict[int, EvseTransaction]:
        """The transaction engines of the transactions block, by EVSE."""
        return cast("TransactionsBlock", self.st.blocks.transactions).engines

    def _transactions(self) -> dict[int, str]:
        return {
            evse: engine.transaction_id
            for evse, engine in self._engines().items()
            if engine.active() and engine.transaction_id
        }

    def _validation_context(
        self, source: Literal["csms", "local"], replacing: StoredProfile | None = None
    ) -> ValidationContext:
        dm = self.st.dm
        existing = self.store.all()
        if replacing is not None:
            # A profile with the same purpose and stackLevel on the same EVSE replaces the
            # installed one (as the issue asks; the store does it atomically), so it is no
            # duplicate for validation.
            existing = [p for p in existing if not _same_slot(replacing, p)]
        return ValidationContext(
            evse_ids=frozenset(self.st.config.evse_map),
            transactions=self._transactions(),
            rate_units=frozenset(dm.get_list("SmartChargingCtrlr", "RateUnit") or ["A", "W"]),
            periods_per_schedule=dm.get_int("SmartChargingCtrlr", "PeriodsPerSchedule", default=24),
            max_stack_level=dm.get_int("SmartChargingCtrlr", "ProfileStackLevel", default=10),
            entries_max=self._entries_max(),
            entries_now=len(existing),
            phase_switching=dm.get_bool(
                "SmartChargingCtrlr", "ACPhaseSwitchingSupported", default=False
            ),
            existing=existing,
            source=source,
        )

    def _entries_max(self) -> int | None:
        """The most profiles the station stores: ``maxLimit`` of
        SmartChargingCtrlr.Entries[ChargingProfiles] (its Actual value counts the installed)."""
        var = self.st.dm.definitions.by_key.get(_ENTRIES_KEY)
        if var is None or var.max_limit is None:
            return None
        return int(var.max_limit)

    def _changed(self) -> None:
        """The installed profiles changed: update Entries[ChargingProfiles] and the limits."""
        self.st.dm.set(
            "SmartChargingCtrlr",
            "Entries",
            self.store.count(),
            variable_instance="ChargingProfiles",
        )
        self._wake.set()

    def _evse_context(self, evse: int) -> EvseContext:
        cfg = self.st.config
        evse_cfg = next((e for e in cfg.evses if e.id == evse), None)
        engine = self._engines().get(evse)
        running = engine if engine is not None and engine.active() else None
        return EvseContext(
            nominal_voltage=cfg.nominal_voltage,
            phases=evse_cfg.phases if evse_cfg else 3,
            transaction_start=running.started_at if running else None,
            transaction_id=running.transaction_id if running else None,
            share=max(1, len(cfg.evses)),
            max_current=evse_cfg.max_current_a if evse_cfg else 32.0,
        )

    # -- CSMS requests ---------------------------------------------------------------------------
    async def on_set_charging_profile(self, payload: dict[str, Any]) -> Reply:
        evse, profile = payload["evseId"], payload["chargingProfile"]
        return Reply(self.set_profile(evse, profile, "csms"), then=self.recompute)

    def set_profile(
        self, evse: int, profile: dict[str, Any], source: Literal["csms", "local"]
    ) -> dict[str, Any]:
        if not self.st.dm.get_bool("SmartChargingCtrlr", "Enabled", default=True):
            return {"status": "Rejected", "statusInfo": {"reasonCode": "NotEnabled"}}
        if profile.get("chargingProfilePurpose") == TX_PROFILE and "transactionId" not in profile:
            running = self._transactions().get(evse)
            if running is not None:  # the TxProfile of the running transaction (K01.FR.03)
                profile = {**profile, "transactionId": running}
        candidate = StoredProfile(evse, profile)
        problem = validate_profile(evse, profile, self._validation_context(source, candidate))
        if problem is not None:
            return {"status": "Rejected", "statusInfo": problem.status_info()}
        self.store.add(evse, profile, source="CSO" if source == "csms" else "EMS")
        self._changed()
        return {"status": "Accepted"}

    async def on_clear_charging_profile(self, payload: dict[str, Any]) -> Reply:
        criteria = payload.get("chargingProfileCriteria", {})
        count = self.store.clear(
            profile_id=payload.get("chargingProfileId"),
            evse_id=criteria.get("evseId"),
            purpose=criteria.get("chargingProfilePurpose"),
            stack_level=criteria.get("stackLevel"),
        )
        if count:
            self._changed()
        return Reply({"status": "Accepted" if count else "Unknown"}, then=self.recompute)

    async def on_get_charging_profiles(self, payload: dict[str, Any]) -> Reply:
        criterion = payload.get("chargingProfile", {})
        found = self.store.find(
            evse_id=payload.get("evseId"),
            purposes=[criterion["chargingProfilePurpose"]]
            if "chargingProfilePurpose" in criterion
            else None,
            stack_level=criterion.get("stackLevel"),
            ids=criterion.get("chargingProfileId"),
            sources=criterion.get("chargingLimitSource"),
        )
        if not found:
            return Reply({"status": "NoProfiles"})
        # One ReportChargingProfiles carries one EVSE and one limit source; a group longer than
        # DeviceDataCtrlr.ItemsPerMessage[GetReport] is split like the other reports.  requestId
        # on every one (K09.FR.01), tbc true on all but the last (K09.FR.02).
        per_message = self.st.dm.get_int(
            "DeviceDataCtrlr", "ItemsPerMessage", variable_instance="GetReport", default=0
        )
        groups: dict[tuple[int, str], list[dict[str, Any]]] = {}
        for stored in found:
            groups.setdefault((stored.evse_id, stored.source), []).append(stored.profile)
        parts: list[tuple[int, str, list[dict[str, Any]]]] = []
        for (evse, source), profiles in sorted(groups.items()):
            size = per_message if per_message > 0 else len(profiles)
            parts.extend(
                (evse, source, profiles[i : i + size]) for i in range(0, len(profiles), size)
            )
        reports = [
            {
                "requestId": payload["requestId"],
                "chargingLimitSource": source,
                "evseId": evse,
                "chargingProfile": profiles,
                "tbc": n < len(parts) - 1,
            }
            for n, (evse, source, profiles) in enumerate(parts)
        ]
        return Reply({"status": "Accepted"}, then=lambda: self._send_reports(reports))

    async def _send_reports(self, reports: list[dict[str, Any]]) -> None:
        for report in reports:
            try:
                await self.st.call("ReportChargingProfiles", report)
            except (CallTimeout, OCPPError, ConnectionLost) as exc:
                self.st.log.warning("ReportChargingProfiles not delivered: %s", exc)
                return

    async def on_get_composite_schedule(self, payload: dict[str, Any]) -> dict[str, Any]:
        evse = payload["evseId"]
        if evse != 0 and evse not in self.st.config.evse_map:
            return {"status": "Rejected", "statusInfo": {"reasonCode": "UnknownEvse"}}
        if payload["duration"] < 0:
            return {
                "status": "Rejected",
                "statusInfo": {
                    "reasonCode": "InvalidValue",
                    "additionalInfo": f"duration {payload['duration']} is negative",
                },
            }
        unit = payload.get("chargingRateUnit", "A")
        rate_units = self.st.dm.get_list("SmartChargingCtrlr", "RateUnit") or ["A", "W"]
        if unit not in rate_units:
            return {"status": "Rejected", "statusInfo": {"reasonCode": "UnsupportedRateUnit"}}
        schedule = composite_schedule(
            self.store.all(),
            evse,
            self.st.now(),
            payload["duration"],
            unit,
            self._evse_context(evse) if evse else self._station_context(),
        )
        return {"status": "Accepted", "schedule": schedule}

    def _station_context(self) -> EvseContext:
        cfg = self.st.config
        return EvseContext(
            nominal_voltage=cfg.nominal_voltage,
            max_current=sum(e.max_current_a for e in cfg.evses),
        )

    # -- transactions ----------------------------------------------------------------------------
    def check_remote_start_profile(
        self, evse: int, profile: dict[str, Any]
    ) -> dict[str, Any] | None:
        """A RequestStartTransaction's chargingProfile must be a valid TxProfile (F01.FR.08/09)."""
        if profile.get("chargingProfilePurpose") != TX_PROFILE:
            return {
                "reasonCode": "InvalidProfile",
                "additionalInfo": "chargingProfilePurpose must be TxProfile (F01.FR.08)",
            }
        # Judged as if the transaction were running already; a transactionId the CSMS may have
        # put in is replaced by the real one when the transaction starts.
        trial = {k: v for k, v in profile.items() if k != "transactionId"}
        ctx = dataclasses.replace(self._validation_context("csms"), transactions={evse: "pending"})
        problem = validate_profile(evse, trial, ctx)
        return None if problem is None else problem.status_info()

    async def install_tx_profile(
        self, evse: int, transaction_id: str, profile: dict[str, Any]
    ) -> None:
        self.store.add(evse, {**profile, "transactionId": transaction_id})
        self._changed()

    async def transaction_ended(self, evse: int, transaction_id: str) -> None:
        # K02.FR.05: a TxProfile lives only as long as its transaction.
        self.store.remove_transaction(transaction_id, evse)
        self.pending_tx_profile.pop(evse, None)
        self._changed()

    def wake(self) -> None:
        self._wake.set()

    # -- enforcement -----------------------------------------------------------------------------
    async def recompute(self) -> None:
        self._wake.set()

    async def _enforce_loop(self) -> None:
        while True:
            self._wake.clear()  # before looking: a wake during _enforce is not lost
            next_change = await self._enforce()
            delay = 3600.0 if next_change is None else max(0.05, next_change - self.st.now())
            if self.pending_tx_profile:
                # An authorization can lapse without any TransactionEvent to wake us: look again.
                delay = min(delay, 0.5)
            await sleep_or_wake(self.st.clock, min(delay, 3600.0), self._wake)

    async def _enforce(self) -> float | None:
        """Send each EVSE's limit to the HAL if it changed; return when to look again."""
        self._install_pending()
        profiles = self.store.all()
        now = self.st.now()
        soonest: float | None = None
        changed = False
        for evse_cfg in self.st.config.evses:
            ctx = self._evse_context(evse_cfg.id)
            limit, phases, next_change = limit_at(profiles, evse_cfg.id, now, ctx)
            amps = evse_cfg.max_current_a if limit is None else min(limit, evse_cfg.max_current_a)
            if self.limits.get(evse_cfg.id) != (amps, phases):
                try:
                    await self.st.hal.set_current_limit(evse_cfg.id, amps, phases)
                except Exception as exc:
                    self.st.log.warning("HAL set_current_limit(%s) failed: %s", evse_cfg.id, exc)
                else:
                    self.limits[evse_cfg.id] = (amps, phases)
                    changed = True
            if next_change is not None and (soonest is None or next_change < soonest):
                soonest = next_change
        # charging_schedules: on every limit change and whenever what the schedules are made of
        # (the profiles, the running transactions) changed.
        inputs = (
            tuple((p.evse_id, p.source, repr(sorted(p.profile.items()))) for p in profiles),
            tuple(sorted(self._transactions().items())),
        )
        if changed or inputs != self._published_inputs:
            self._published_inputs = inputs
            await self.st.publish("charging_schedules", self.charging_schedules())
        return soonest

    def _install_pending(self) -> None:
        """A RequestStartTransaction's TxProfile waits here until its transaction starts; when
        the authorization ends first (EVConnectionTimeOut, a stop), the profile is dropped so that
        it never reaches another driver's transaction."""
        transactions = self._transactions()
        engines = self._engines()
        for evse, profile in list(self.pending_tx_profile.items()):
            tx_id = transactions.get(evse)
            engine = engines.get(evse)
            if tx_id is None and (engine is None or engine.id_token is None):
                del self.pending_tx_profile[evse]
            elif tx_id is not None:
                self.store.add(evse, {**profile, "transactionId": tx_id})
                del self.pending_tx_profile[evse]
                self._changed()

    def charging_schedules(self) -> dict[str, Any]:
        """``charging_schedules`` as seed 004's ChargingSchedules: EVSE 0 then each EVSE."""
        profiles = self.store.all()
        now = self.st.now()
        schedules = []
        for evse in [0, *self.st.config.evse_map]:
            ctx = self._evse_context(evse) if evse else self._station_context()
            composite = composite_schedule(profiles, evse, now, PUBLISHED_HORIZON, "A", ctx)
            schedules.append(
                {
                    "evse": evse,
                    "charging_rate_unit": composite["chargingRateUnit"],
                    "charging_schedule_period": [
                        {
                            "start_period": p["startPeriod"],
                            "limit": p["limit"],
                            "number_phases": p["numberPhases"],
                        }
                        for p in composite["chargingSchedulePeriod"]
                    ],
                    "duration": composite["duration"],
                    "start_schedule": composite["scheduleStart"],
                }
            )
        return {"schedules": schedules}

    def describe(self, state: dict[str, Any]) -> None:
        by_id = {e["id"]: e for e in state.setdefault("evses", [])}
        for evse, (amps, _phases) in self.limits.items():
            if evse in by_id:
                by_id[evse]["limit_amps"] = amps


class _WakingDict(dict[int, dict[str, Any]]):
    """A dict that calls ``on_set`` after every item assignment."""

    def __init__(self, on_set: Callable[[], None]) -> None:
        super().__init__()
        self._on_set = on_set

    def __setitem__(self, key: int, value: dict[str, Any]) -> None:
        super().__setitem__(key, value)
        self._on_set()


def _same_slot(a: StoredProfile, b: StoredProfile) -> bool:
    try:
        return same_slot(a, b)
    except (KeyError, TypeError, ValueError):
        return False
