"""Running as a service on a charger: the systemd notification protocol (READY, watchdog,
status) and the log set-up of ``ocpp-station run`` / ``fleet`` (text or JSON lines, journal-aware,
secrets masked, repeated warnings summarized)."""

from ocpp_station.service.logs import setup_logging
from ocpp_station.service.notify import Notifier, notify_address, watchdog_period
from ocpp_station.service.redact import redact
from ocpp_station.service.systemd import ServiceManager, status_line

__all__ = [
    "Notifier",
    "ServiceManager",
    "notify_address",
    "redact",
    "setup_logging",
    "status_line",
    "watchdog_period",
]
