"""No inert variable (issue 14): every variable a CSMS may set (ReadWrite or WriteOnly, any
attribute) in ``device_model/definitions`` has a test that sets it and observes the behaviour
OCPP 2.0.1 gives it, through the CSMS, the control socket or the simulated controller.

``LIVE`` maps each settable (component, variable, instance, attribute) to those tests
(``path under tests/::function``); ``EXCEPTIONS`` lists the ones kept settable without station
behaviour, with the reason, and must match the exception table of ``docs/conformance.md``.  A
variable the station has no behaviour for is not advertised, or is ReadOnly with its true value
(``docs/conformance.md`` lists those too)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

from device_model import load_definitions

TESTS = Path(__file__).resolve().parents[2]
REPO = TESTS.parent

Key = tuple[str, str, str | None, str]  # component, variable, variable instance, attribute

ALIGNED = "integration/provisioning/test_live_variables.py::"
LINK = "integration/provisioning/test_live_link_variables.py::"
CONFORMANCE = "integration/transactions/test_transactions_conformance.py::"
TX = "integration/transactions/test_transactions.py::"
LOCAL_LIST = "integration/local_list/test_local_list.py::"
RESERVATION = "integration/reservation/test_reservation.py::"
CACHE = "integration/authorization/test_authorization_cache.py::"
LOCK = "integration/transactions/test_transactions_lock.py::"
NETWORK = "integration/networking/test_network_profiles.py::"
RENEWAL = "integration/security/test_certificate_renewal.py::"
OFFLINE_RULES = TX + "test_offline_rules_cache_and_clear_cache"
BACK_OFF = (
    LINK + "test_reconnect_back_off_follows_the_retry_variables",
    "unit/transport/test_transport.py::test_backoff_doubles_repeat_times_then_stays",
    "unit/transport/test_transport.py::test_backoff_adds_fresh_random_part",
)

LIVE: dict[Key, tuple[str, ...]] = {
    ("AlignedDataCtrlr", "Enabled", None, "Actual"): (
        ALIGNED + "test_aligned_measurands_and_enabled_j01",
    ),
    ("AlignedDataCtrlr", "Interval", None, "Actual"): (
        CONFORMANCE + "test_clock_aligned_values_idle_and_in_a_transaction_by_default_j01_fr_14",
        TX + "test_sampled_and_clock_aligned_meter_values",
    ),
    ("AlignedDataCtrlr", "Measurands", None, "Actual"): (
        ALIGNED + "test_aligned_measurands_and_enabled_j01",
    ),
    ("AlignedDataCtrlr", "TxEndedInterval", None, "Actual"): (
        ALIGNED + "test_aligned_tx_ended_values_in_the_ended_event_j02",
    ),
    ("AlignedDataCtrlr", "TxEndedMeasurands", None, "Actual"): (
        ALIGNED + "test_aligned_tx_ended_values_in_the_ended_event_j02",
    ),
    ("AlignedDataCtrlr", "SendDuringIdle", None, "Actual"): (
        CONFORMANCE + "test_send_during_idle_stops_clock_aligned_values_in_a_transaction_j01_fr_20",
    ),
    ("AuthCacheCtrlr", "Enabled", None, "Actual"): (OFFLINE_RULES,),
    ("AuthCacheCtrlr", "LifeTime", None, "Actual"): (
        CACHE + "test_lower_bound_clear_cache_and_lifetime",
    ),
    ("AuthCacheCtrlr", "Policy", None, "Actual"): (CACHE + "test_storage_bound_and_policy",),
    ("AuthCacheCtrlr", "Storage", None, "MaxSet"): (
        CACHE + "test_storage_bound_and_policy",
        CACHE + "test_lower_bound_clear_cache_and_lifetime",
    ),
    ("AuthCacheCtrlr", "DisablePostAuthorize", None, "Actual"): (
        CACHE + "test_disable_post_authorize",
    ),
    ("LocalAuthListCtrlr", "Enabled", None, "Actual"): (LOCAL_LIST + "test_disabled_list",),
    ("LocalAuthListCtrlr", "DisablePostAuthorize", None, "Actual"): (
        LOCAL_LIST + "test_disable_post_authorize_of_the_list",
    ),
    ("ReservationCtrlr", "Enabled", None, "Actual"): (
        RESERVATION + "test_enabled_and_non_evse_specific",
    ),
    ("ReservationCtrlr", "NonEvseSpecific", None, "Actual"): (
        RESERVATION + "test_enabled_and_non_evse_specific",
        RESERVATION + "test_unspecified_reservation_follows_the_free_evses",
    ),
    ("MonitoringCtrlr", "Enabled", None, "Actual"): (
        "integration/monitoring/test_monitoring_control.py::test_monitoring_disabled_fires_nothing",
    ),
    ("MonitoringCtrlr", "OfflineQueuingSeverity", None, "Actual"): (
        "integration/monitoring/test_monitoring_persistence.py::"
        "test_offline_events_queued_by_severity",
    ),
    ("DisplayMessageCtrlr", "Enabled", None, "Actual"): (
        "integration/display/test_display_messages.py::test_refusal_statuses_o01",
    ),
    ("TariffCostCtrlr", "Enabled", "Tariff", "Actual"): (
        "integration/tariff/test_tariff_cost.py::test_personal_message_from_authorize_and_transaction_event_i01_i06",
    ),
    ("TariffCostCtrlr", "Enabled", "Cost", "Actual"): (
        "integration/tariff/test_tariff_cost.py::test_cost_updated_i02",
    ),
    ("TariffCostCtrlr", "Currency", None, "Actual"): (
        "integration/tariff/test_tariff_cost.py::test_running_and_total_cost_i02_i03",
    ),
    ("TariffCostCtrlr", "TariffFallbackMessage", None, "Actual"): (
        "integration/tariff/test_tariff_cost.py::test_fallback_messages_while_offline_i04_i05",
    ),
    ("TariffCostCtrlr", "TotalCostFallbackMessage", None, "Actual"): (
        "integration/tariff/test_tariff_cost.py::test_fallback_messages_while_offline_i04_i05",
    ),
    ("AuthCtrlr", "Enabled", None, "Actual"): (
        "integration/authorization/test_authorization_disabled.py::"
        "test_plug_in_charges_with_no_authorization_token",
    ),
    ("AuthCtrlr", "AuthorizeRemoteStart", None, "Actual"): (
        TX + "test_remote_start_authorized_first_when_configured",
    ),
    ("AuthCtrlr", "LocalAuthorizeOffline", None, "Actual"): (OFFLINE_RULES,),
    ("AuthCtrlr", "LocalPreAuthorize", None, "Actual"): (OFFLINE_RULES,),
    ("AuthCtrlr", "OfflineTxForUnknownIdEnabled", None, "Actual"): (
        OFFLINE_RULES,
        "integration/authorization/test_authorization_offline_unknown.py::"
        "test_unknown_token_let_in_offline_is_not_cached",
    ),
    ("AuthCtrlr", "DisableRemoteAuthorization", None, "Actual"): (
        ALIGNED + "test_disable_remote_authorization_never_asks_the_csms",
    ),
    ("AuthCtrlr", "MasterPassGroupId", None, "Actual"): (
        "integration/authorization/test_authorization_evse_and_master_pass.py::"
        "test_master_pass_stops_every_transaction_and_starts_none",
    ),
    ("ChargingStation", "AllowNewSessionsPendingFirmwareUpdate", None, "Actual"): (
        "integration/firmware/test_firmware_new_sessions.py::"
        "test_new_sessions_while_an_installation_waits_l01_fr_07",
        "integration/firmware/test_firmware_update.py::test_running_transaction_delays_the_installation",
    ),
    ("ClockCtrlr", "TimeAdjustmentReportingThreshold", None, "Actual"): (
        ALIGNED + "test_time_adjustment_reporting_threshold",
    ),
    ("OCPPCommCtrlr", "HeartbeatInterval", None, "Actual"): (
        "integration/provisioning/test_variables.py::test_heartbeat_interval_change_reschedules",
    ),
    ("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent", "Actual"): (
        "integration/dispatch/test_queue.py::test_unanswered_message_is_retried_then_dropped",
        "integration/dispatch/test_queue.py::test_callerror_is_retried_growing_then_dropped",
    ),
    ("OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent", "Actual"): (
        "integration/dispatch/test_queue.py::test_unanswered_message_is_retried_then_dropped",
        "integration/dispatch/test_queue.py::test_callerror_is_retried_growing_then_dropped",
    ),
    ("OCPPCommCtrlr", "NetworkConfigurationPriority", None, "Actual"): (
        NETWORK + "test_set_network_profile_then_priority_and_reset_boots_at_the_new_csms_b09_b10",
        NETWORK + "test_bad_profiles_and_priorities_are_rejected_b09_fr_02_04_05_b10_fr_02",
        NETWORK + "test_security_profile_upgrade_and_failed_upgrade_a05",
    ),
    ("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", None, "Actual"): (
        NETWORK + "test_a_csms_that_is_down_falls_back_after_the_attempts_b10_fr_03_07_10",
        "unit/blocks/networking/test_selection.py::"
        "test_attempts_per_slot_in_priority_order_then_the_last_good_one_b10_fr_03_07",
    ),
    ("OCPPCommCtrlr", "OfflineThreshold", None, "Actual"): (
        "integration/provisioning/test_offline_threshold.py::test_offline_threshold_set_by_the_csms_takes_effect",
        "integration/provisioning/test_offline_threshold.py::test_long_outage_reports_every_connector_b04_fr_01",
    ),
    ("OCPPCommCtrlr", "QueueAllMessages", None, "Actual"): (
        ALIGNED + "test_queue_all_messages_keeps_what_happened_offline",
    ),
    ("OCPPCommCtrlr", "RetryBackOffRandomRange", None, "Actual"): BACK_OFF,
    ("OCPPCommCtrlr", "RetryBackOffRepeatTimes", None, "Actual"): BACK_OFF,
    ("OCPPCommCtrlr", "RetryBackOffWaitMinimum", None, "Actual"): BACK_OFF,
    ("OCPPCommCtrlr", "WebSocketPingInterval", None, "Actual"): (
        LINK + "test_websocket_ping_interval",
        "unit/transport/test_transport.py::test_ping_interval_read_per_connection",
    ),
    ("OCPPCommCtrlr", "UnlockOnEVSideDisconnect", None, "Actual"): (
        LOCK + "test_unlock_on_ev_side_disconnect_set_by_the_csms_applies",
        LOCK + "test_ev_side_unplug_keeps_the_lock_until_the_owner_e09_fr_03",
    ),
    ("SampledDataCtrlr", "Enabled", None, "Actual"): (
        ALIGNED + "test_sampled_data_disabled_sends_no_transaction_meter_values",
    ),
    ("SampledDataCtrlr", "TxStartedMeasurands", None, "Actual"): (
        ALIGNED + "test_sampled_measurands_of_the_started_and_ended_events_j02",
    ),
    ("SampledDataCtrlr", "TxEndedMeasurands", None, "Actual"): (
        ALIGNED + "test_sampled_measurands_of_the_started_and_ended_events_j02",
    ),
    ("SampledDataCtrlr", "TxUpdatedMeasurands", None, "Actual"): (
        ALIGNED + "test_sampled_measurands_of_the_started_and_ended_events_j02",
    ),
    ("SampledDataCtrlr", "TxUpdatedInterval", None, "Actual"): (
        TX + "test_sampled_and_clock_aligned_meter_values",
        ALIGNED + "test_sampled_measurands_of_the_started_and_ended_events_j02",
    ),
    ("SampledDataCtrlr", "TxEndedInterval", None, "Actual"): (
        CONFORMANCE + "test_tx_ended_interval_samples_in_the_ended_event_j02",
    ),
    ("SecurityCtrlr", "BasicAuthPassword", None, "Actual"): (
        "integration/security/test_password_change.py::test_new_password_reconnects_and_sticks_a01",
    ),
    ("SecurityCtrlr", "OrganizationName", None, "Actual"): (
        RENEWAL + "test_a_trigger_without_organization_name_is_rejected",
    ),
    ("SecurityCtrlr", "CertSigningWaitMinimum", None, "Actual"): (
        RENEWAL + "test_sign_certificate_is_resent_with_doubling_waits_a02_fr_17_19",
        "unit/blocks/security/test_renewal_state.py::"
        "test_resends_double_the_wait_and_stop_after_repeat_times_a02_fr_17_19",
    ),
    ("SecurityCtrlr", "CertSigningRepeatTimes", None, "Actual"): (
        RENEWAL + "test_sign_certificate_is_resent_with_doubling_waits_a02_fr_17_19",
        "unit/blocks/security/test_renewal_state.py::test_repeat_times_zero_resends_once_without_doubling",
        "unit/blocks/security/test_renewal_state.py::test_repeat_times_one_is_three_requests_tc_a_23",
    ),
    ("SmartChargingCtrlr", "Enabled", None, "Actual"): (
        ALIGNED + "test_smart_charging_disabled_rejects_profiles",
    ),
    ("TxCtrlr", "TxStartPoint", None, "Actual"): (TX + "test_session_per_start_and_stop_points",),
    ("TxCtrlr", "TxStopPoint", None, "Actual"): (TX + "test_session_per_start_and_stop_points",),
    ("TxCtrlr", "EVConnectionTimeOut", None, "Actual"): (
        ALIGNED + "test_ev_connection_timeout_ends_an_authorization_e03_fr_05",
        "integration/smart_charging/test_smart_charging.py::"
        "test_remote_start_profile_dropped_when_authorization_expires",
    ),
    ("TxCtrlr", "StopTxOnEVSideDisconnect", None, "Actual"): (
        LOCK + "test_suspended_transaction_keeps_the_lock_until_the_token_e10_fr_01",
    ),
    ("TxCtrlr", "StopTxOnInvalidId", None, "Actual"): (
        TX + "test_invalid_token_without_stop_tx_on_invalid_id_suspends",
    ),
    ("TxCtrlr", "MaxEnergyOnInvalidId", None, "Actual"): (
        TX + "test_invalid_token_without_stop_tx_on_invalid_id_suspends",
    ),
    ("TxCtrlr", "TxBeforeAcceptedEnabled", None, "Actual"): (
        "integration/provisioning/test_registration_rules.py::test_transaction_before_accepted_when_enabled",
        "integration/provisioning/test_registration_rules.py::test_no_transaction_before_accepted_by_default",
    ),
}

# Settable without station behaviour, with the reason (the same rows as the exception table of
# docs/conformance.md).  None at present: every settable variable above has its behaviour.
EXCEPTIONS: dict[Key, str] = {}


def settable() -> set[Key]:
    """Every (component, variable, instance, attribute) a CSMS may set."""
    return {
        (var.component, var.name, var.instance, attr.type)
        for var, attr in load_definitions().slots
        if attr.mutability in ("ReadWrite", "WriteOnly")
    }


def _module(relative: str) -> ModuleType:
    path = TESTS / relative
    name = "_inert_" + re.sub(r"\W", "_", relative)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, relative
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_table_covers_exactly_the_settable_variables() -> None:
    rows = set(LIVE) | set(EXCEPTIONS)
    assert not set(LIVE) & set(EXCEPTIONS)
    assert sorted(settable() - rows, key=str) == [], "settable without a test or an exception"
    assert sorted(rows - settable(), key=str) == [], "in the table but not settable"


def test_every_referenced_test_exists() -> None:
    modules: dict[str, ModuleType] = {}
    for key, tests in LIVE.items():
        assert tests, key
        for ref in tests:
            relative, _, function = ref.partition("::")
            if relative not in modules:
                modules[relative] = _module(relative)
            assert callable(getattr(modules[relative], function, None)), f"{key}: {ref}"


def test_the_exceptions_are_documented() -> None:
    text = (REPO / "docs" / "conformance.md").read_text()
    section = text.split("<!-- settable-exceptions -->")[1].split("<!-- /settable-exceptions")[0]
    documented = set(re.findall(r"^\| `(\w+)\.(\w+)(?:\[(\w+)\])?(?: (\w+))?` \|", section, re.M))
    listed = {(c, v, i or "", a or "Actual") for c, v, i, a in documented}
    assert listed == {(c, v, i or "", a) for c, v, i, a in EXCEPTIONS}
