"""Smart charging (use cases K01, K02, K05–K10): profiles from the CSMS, composite schedules, and
the limit that the charge controller must obey (also offline, K06/K07).  External limits are
applied but not reported (no NotifyChargingLimit, K11–K13); nothing of ISO 15118 (K15–K17).

Validation, storage and schedule maths are pure (``validation.py``, ``store.py``,
``composite.py``); enforcement is ``enforcement.py``; this block
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

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from ocpp_station.blocks.base import Block
from ocpp_station.blocks.smart_charging.composite import EvseContext, composite_schedule
from ocpp_station.blocks.smart_charging.enforcement import Enforcement
from ocpp_station.blocks.smart_charging.store import (
    TX_PROFILE,
    ProfileStore,
    StoredProfile,
    same_slot,
)
from ocpp_station.blocks.transactions.sessions import Sessions
from ocpp_station.context import Context
from ocpp_station.ocpp_types import status_info
from ocpp_station.rpc.endpoint import Reply
from ocpp_station.storage import StorageUnavailable

if TYPE_CHECKING:
    from ocpp_station.blocks.smart_charging.validation import ValidationContext

StoreOpener = Callable[[], ProfileStore]
_ENTRIES_KEY = ("SmartChargingCtrlr", None, "Entries", "ChargingProfiles")


class SmartChargingBlock(Block):
    def __init__(self, ctx: Context, sessions: Sessions, open_store: StoreOpener) -> None:
        super().__init__(ctx)
        self.sessions = sessions
        self._open_store = open_store
        handlers = ctx.handlers
        handlers.register("SetChargingProfile", self.on_set_charging_profile)
        handlers.register("ClearChargingProfile", self.on_clear_charging_profile)
        handlers.register("GetChargingProfiles", self.on_get_charging_profiles)
        handlers.register("GetCompositeSchedule", self.on_get_composite_schedule)
        self.store: ProfileStore
        # evse -> the TxProfile of a RequestStartTransaction whose transaction has not started yet
        # (hold_tx_profile); the enforcement installs it when the transaction starts.
        self.pending_tx_profile: dict[int, dict[str, Any]] = {}
        self.enforcement = Enforcement(ctx, self)

    async def start(self) -> None:
        self.store = self._open_store()
        # K02.FR.05: TxProfiles of transactions that ended while the station was down go.
        running = set(self._transactions().values())
        for stored in self.store.all():
            if stored.purpose == TX_PROFILE and stored.transaction_id not in running:
                self.store.remove_transaction(stored.transaction_id or "", stored.evse_id)
        self.profiles_changed()  # Entries[ChargingProfiles] is not persistent: count what is stored
        await self.enforcement.start()

    async def stop(self) -> None:
        self.enforcement.stop()
        self.store.close()

    # -- context ---------------------------------------------------------------------------------
    def _transactions(self) -> dict[int, str]:
        return self.sessions.transactions()

    def _validation_context(
        self, source: Literal["csms", "local"], evse: int, replacing: StoredProfile | None = None
    ) -> ValidationContext:
        # lazy: the profile rules load with the first profile to judge, not at every start
        from ocpp_station.blocks.smart_charging.validation import ValidationContext  # lazy

        dm = self.ctx.dm
        existing = self.store.all()
        if replacing is not None:
            # A profile with the same purpose and stackLevel on the same EVSE replaces the
            # installed one (as the issue asks; the store does it atomically), so it is no
            # duplicate for validation.
            existing = [p for p in existing if not _same_slot(replacing, p)]
        return ValidationContext(
            evse_ids=frozenset(self.ctx.layout.evses),
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
            max_amps=self._physical_max(evse),
            nominal_voltage=self.ctx.config.nominal_voltage,
        )

    def _physical_max(self, evse: int) -> float | None:
        """What the EVSE (0: the whole station) can carry, A per phase; None when unknown."""
        evses = self.ctx.config.evses
        if evse == 0:
            return sum(e.max_current_a for e in evses) if evses else None
        return next((e.max_current_a for e in evses if e.id == evse), None)

    def _entries_max(self) -> int | None:
        """The most profiles the station stores: ``maxLimit`` of
        SmartChargingCtrlr.Entries[ChargingProfiles] (its Actual value counts the installed)."""
        var = self.ctx.dm.definitions.by_key.get(_ENTRIES_KEY)
        if var is None or var.max_limit is None:
            return None
        return int(var.max_limit)

    def profiles_changed(self) -> None:
        """The installed profiles changed: update Entries[ChargingProfiles] and the limits."""
        self.enforcement.wake()
        try:
            self.ctx.dm.set(
                "SmartChargingCtrlr",
                "Entries",
                self.store.count(),
                variable_instance="ChargingProfiles",
            )
        except StorageUnavailable:
            pass  # a count, not persistent: set again on the next change (the log has it)

    def evse_context(self, evse: int) -> EvseContext:
        cfg = self.ctx.config
        evse_cfg = next((e for e in cfg.evses if e.id == evse), None)
        running = self.sessions.running(evse)
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
        if not self.ctx.dm.get_bool("SmartChargingCtrlr", "Enabled", default=True):
            return {"status": "Rejected", "statusInfo": status_info("NotEnabled")}
        if profile.get("chargingProfilePurpose") == TX_PROFILE and "transactionId" not in profile:
            running = self._transactions().get(evse)
            if running is not None:  # the TxProfile of the running transaction (K01.FR.03)
                profile = {**profile, "transactionId": running}
        from ocpp_station.blocks.smart_charging.validation import validate_profile  # lazy

        candidate = StoredProfile(evse, profile)
        problem = validate_profile(evse, profile, self._validation_context(source, evse, candidate))
        if problem is not None:
            return {"status": "Rejected", "statusInfo": problem.status_info()}
        try:
            self.store.add(evse, profile, source="CSO" if source == "csms" else "EMS")
        except StorageUnavailable as exc:
            # K01.FR.27: a profile is Accepted only once stored; the storage trouble shows in
            # the log and in ``status`` (the store's health).
            return {
                "status": "Rejected",
                "statusInfo": status_info(
                    "OutOfStorage", f"the profile could not be stored: {exc}"
                ),
            }
        self.profiles_changed()
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
            self.profiles_changed()
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
        per_message = self.ctx.dm.get_int(
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
        # K09: they answer the CSMS's GetChargingProfiles, so they go as a reply.
        for report in reports:
            if await self.ctx.dispatcher.send("ReportChargingProfiles", report, reply=True) is None:
                return

    async def on_get_composite_schedule(self, payload: dict[str, Any]) -> dict[str, Any]:
        evse = payload["evseId"]
        if evse != 0 and evse not in self.ctx.layout.evses:
            return {"status": "Rejected", "statusInfo": status_info("UnknownEvse")}
        if payload["duration"] < 0:
            return {
                "status": "Rejected",
                "statusInfo": status_info(
                    "InvalidValue", f"duration {payload['duration']} is negative"
                ),
            }
        unit = payload.get("chargingRateUnit", "A")
        rate_units = self.ctx.dm.get_list("SmartChargingCtrlr", "RateUnit") or ["A", "W"]
        if unit not in rate_units:
            return {"status": "Rejected", "statusInfo": status_info("UnsupportedRateUnit")}
        schedule = composite_schedule(
            self.store.all(),
            evse,
            self.ctx.now(),
            payload["duration"],
            unit,
            self.evse_context(evse) if evse else self.station_context(),
        )
        return {"status": "Accepted", "schedule": schedule}

    def station_context(self) -> EvseContext:
        cfg = self.ctx.config
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
            return status_info(
                "InvalidProfile", "chargingProfilePurpose must be TxProfile (F01.FR.08)"
            )
        # Judged as if the transaction were running already; a transactionId the CSMS may have
        # put in is replaced by the real one when the transaction starts.
        from ocpp_station.blocks.smart_charging.validation import validate_profile  # lazy

        trial = {k: v for k, v in profile.items() if k != "transactionId"}
        ctx = dataclasses.replace(
            self._validation_context("csms", evse), transactions={evse: "pending"}
        )
        problem = validate_profile(evse, trial, ctx)
        return None if problem is None else problem.status_info()

    async def install_tx_profile(
        self, evse: int, transaction_id: str, profile: dict[str, Any]
    ) -> None:
        self.store.add(evse, {**profile, "transactionId": transaction_id})
        self.profiles_changed()

    async def transaction_ended(self, evse: int, transaction_id: str) -> None:
        # K02.FR.05: a TxProfile lives only as long as its transaction.
        self.store.remove_transaction(transaction_id, evse)
        self.pending_tx_profile.pop(evse, None)
        self.profiles_changed()

    def hold_tx_profile(self, evse: int, profile: dict[str, Any]) -> None:
        """A RequestStartTransaction's TxProfile for a transaction that has not started yet."""
        self.pending_tx_profile[evse] = profile
        self.enforcement.wake()

    def wake(self) -> None:
        self.enforcement.wake()

    async def recompute(self) -> None:
        self.enforcement.wake()

    def describe(self, state: dict[str, Any]) -> None:
        by_id = {e["id"]: e for e in state.setdefault("evses", [])}
        for evse, (amps, _phases) in self.enforcement.limits.items():
            if evse in by_id:
                by_id[evse]["limit_amps"] = amps


def _same_slot(a: StoredProfile, b: StoredProfile) -> bool:
    try:
        return same_slot(a, b)
    except (KeyError, TypeError, ValueError):
        return False
