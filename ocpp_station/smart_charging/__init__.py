"""Smart charging (OCPP 2.0.1 functional block K): profile validation, the persistent profile
store and the composite schedule engine.  The SetChargingProfile / GetCompositeSchedule /
ClearChargingProfile / GetChargingProfiles handlers build on these pure pieces."""

from ocpp_station.smart_charging.composite import EvseContext, composite_schedule, limit_at
from ocpp_station.smart_charging.store import (
    EXTERNAL,
    STATION_MAX,
    TX_DEFAULT,
    TX_PROFILE,
    ProfileStore,
    StoredProfile,
)
from ocpp_station.smart_charging.validation import Rejection, ValidationContext, validate_profile

__all__ = [
    "EXTERNAL",
    "STATION_MAX",
    "TX_DEFAULT",
    "TX_PROFILE",
    "EvseContext",
    "ProfileStore",
    "Rejection",
    "StoredProfile",
    "ValidationContext",
    "composite_schedule",
    "limit_at",
    "validate_profile",
]
