"""Persistent store of installed charging profiles (OCPP 2.0.1 K01, K09, K10), in SQLite.

Profiles are kept exactly as the CSMS sent them (the camelCase ``chargingProfile`` object of a
SetChargingProfileRequest), together with the EVSE they were installed on and their charging
limit source (``CSO`` for profiles from the CSMS; ``EMS``, ``SO`` or ``Other`` for external
limits).  Profiles survive a reboot and a power cut (K01.FR.27): every change is one committed
SQLite transaction, durable before the store returns.  In a station the store borrows the
connection of the station store (WAL, ``synchronous=FULL``) and sets no PRAGMA on it; a store
opened on a file of its own runs WAL and ``synchronous=FULL`` too, never ``NORMAL`` (a profile
answered Accepted must not be lost).

The store enforces the stack invariants but does not judge a profile's content; that is
:func:`~ocpp_station.blocks.smart_charging.validation.validate_profile`'s job, which the caller
runs first.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from device_model.store import rekey
from ocpp_station.clock import parse_iso
from ocpp_station.storage.connection import transaction
from ocpp_station.storage.tables import CHARGING_PROFILES_COLUMNS as _COLUMNS
from ocpp_station.storage.tables import CHARGING_PROFILES_TABLE

EXTERNAL = "ChargingStationExternalConstraints"
STATION_MAX = "ChargingStationMaxProfile"
TX_DEFAULT = "TxDefaultProfile"
TX_PROFILE = "TxProfile"
PURPOSES = (EXTERNAL, STATION_MAX, TX_DEFAULT, TX_PROFILE)
LIMIT_SOURCES = ("EMS", "Other", "SO", "CSO")


@dataclass(frozen=True)
class StoredProfile:
    """An installed profile: the EVSE it is installed on (0 = the station) and the OCPP dict."""

    evse_id: int
    profile: dict[str, Any]
    source: str = "CSO"  # ChargingLimitSourceEnumType: CSO (from the CSMS), EMS, SO, Other

    @property
    def id(self) -> int:
        return int(self.profile["id"])

    @property
    def purpose(self) -> str:
        return str(self.profile["chargingProfilePurpose"])

    @property
    def stack_level(self) -> int:
        return int(self.profile["stackLevel"])

    @property
    def kind(self) -> str:
        return str(self.profile.get("chargingProfileKind", ""))

    @property
    def transaction_id(self) -> str | None:
        tx = self.profile.get("transactionId")
        return None if tx is None else str(tx)


def _require_int(profile: dict[str, Any], key: str) -> int:
    value = profile.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"chargingProfile.{key} must be an integer, got {value!r}")
    return value


def _validity(profile: dict[str, Any]) -> tuple[float, float]:
    """[validFrom, validTo) as epoch seconds, open ends as -inf / +inf (K01.FR.10)."""
    lo, hi = float("-inf"), float("inf")
    try:
        if isinstance(profile.get("validFrom"), str):
            lo = parse_iso(profile["validFrom"])
        if isinstance(profile.get("validTo"), str):
            hi = parse_iso(profile["validTo"])
    except ValueError:
        pass  # unparsable bounds count as open: the conservative choice for conflict checks
    return lo, hi


def validity_overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two profiles' validFrom/validTo windows overlap (K01.FR.06)."""
    a_lo, a_hi = _validity(a)
    b_lo, b_hi = _validity(b)
    return a_lo < b_hi and b_lo < a_hi


def same_slot(a: StoredProfile, b: StoredProfile) -> bool:
    """Whether ``a`` and ``b`` occupy the same stack slot, so they must not be valid together.

    Non-Tx purposes: same EVSE, purpose and stackLevel with overlapping validity (K01.FR.06).
    TxProfile: same stackLevel and transactionId (K01.FR.39); without a transactionId, same EVSE.
    """
    if a.purpose != b.purpose or a.stack_level != b.stack_level:
        return False
    if a.purpose == TX_PROFILE:
        if a.transaction_id is not None and b.transaction_id is not None:
            return a.transaction_id == b.transaction_id
        return a.evse_id == b.evse_id
    return a.evse_id == b.evse_id and validity_overlaps(a.profile, b.profile)


class ProfileStore:
    """Installed charging profiles in SQLite.

    ``path`` is a database file (created when missing) or an open :class:`sqlite3.Connection`
    owned by the caller: then no PRAGMA is set on it (its owner's durability policy holds) and
    :meth:`close` leaves it open; ``has_table``: the caller's schema holds the table already;
    ``station``: the station's key in the table ('' in its own file).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | sqlite3.Connection,
        *,
        has_table: bool = False,
        station: str = "",
    ) -> None:
        self._station = station
        if isinstance(path, sqlite3.Connection):
            self._conn = path
            self._owned = False
        else:
            self._conn = sqlite3.connect(os.fspath(path), isolation_level=None)
            self._owned = True
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")  # K01.FR.27: durable when answered
        if not has_table:  # (the station store's migrations made it: no statement at a start)
            with transaction(self._conn):  # (a file made before its rows were keyed: rebuilt)
                rekey(self._conn, "charging_profiles", CHARGING_PROFILES_TABLE, _COLUMNS)
                self._conn.execute(CHARGING_PROFILES_TABLE)
        # Every profile, read once and kept until this store changes the table (it is the
        # table's only writer in a station): the enforcement reads them at every look.
        self._all: list[StoredProfile] | None = None

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One transaction for the statements inside, whatever the connection's
        ``isolation_level`` (with ``None`` sqlite3 would commit each statement on its own).
        Inside a transaction the caller opened, the statements join it."""
        if self._conn.in_transaction:
            yield
            return
        with transaction(self._conn):
            yield

    # -- changes -----------------------------------------------------------------------------

    def add(self, evse_id: int, profile: dict[str, Any], source: str = "CSO") -> list[int]:
        """Install ``profile`` on ``evse_id``; return the ids of the profiles it replaced.

        In one transaction: the profile with the same id is replaced (K01.FR.05), and so is any
        profile in the same stack slot (see :func:`same_slot`; K01.FR.06 / K01.FR.39), so no two
        profiles of one purpose and stackLevel are ever valid on one EVSE at the same time.
        Raises ``ValueError`` for a profile without an integer id / stackLevel or a known purpose.
        """
        if isinstance(evse_id, bool) or not isinstance(evse_id, int) or evse_id < 0:
            raise ValueError(f"evse_id must be a non-negative integer, got {evse_id!r}")
        if not isinstance(profile, dict):
            raise ValueError("chargingProfile must be an object")
        profile_id = _require_int(profile, "id")
        stack_level = _require_int(profile, "stackLevel")
        purpose = profile.get("chargingProfilePurpose")
        if purpose not in PURPOSES:
            raise ValueError(f"chargingProfile.chargingProfilePurpose {purpose!r} is not known")
        if source not in LIMIT_SOURCES:
            raise ValueError(f"source {source!r} is not a ChargingLimitSourceEnumType value")
        new = StoredProfile(evse_id, profile, source)
        replaced = [
            old.id
            for old in self.find(purposes=[purpose], stack_level=stack_level)
            if old.id != profile_id and same_slot(old, new)
        ]
        text = json.dumps(profile, separators=(",", ":"), sort_keys=True)
        self._all = None
        with self._transaction():
            key = self._station
            self._conn.executemany(
                "DELETE FROM charging_profiles WHERE station = ? AND id = ?",
                [(key, i) for i in (profile_id, *replaced)],
            )
            self._conn.execute(
                f"INSERT INTO charging_profiles (station, {_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (key, profile_id, evse_id, purpose, stack_level, new.transaction_id, source, text),
            )
        return replaced

    def clear(
        self,
        *,
        profile_id: int | None = None,
        evse_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
        include_external: bool = False,
    ) -> int:
        """Remove profiles as a ClearChargingProfileRequest asks (K10); return how many.

        With ``profile_id`` only that profile is cleared (K10.FR.03) and the criteria are
        ignored; otherwise every profile matching all given criteria is (K10.FR.04; no criteria
        clears all).  ChargingStationExternalConstraints profiles are never cleared this way
        (K10.FR.04, K10.FR.08, K10.FR.09) unless ``include_external`` is set, which is for the
        local external-limit interface (K13), never for the CSMS.  0 means "Unknown" (K10.FR.01).
        """
        where: list[str] = ["station = ?"]
        args: list[Any] = [self._station]
        if profile_id is not None:
            where.append("id = ?")
            args.append(profile_id)
        else:
            for column, value in (
                ("evse_id", evse_id),
                ("purpose", purpose),
                ("stack_level", stack_level),
            ):
                if value is not None:
                    where.append(f"{column} = ?")
                    args.append(value)
        if not include_external:
            where.append("purpose != ?")
            args.append(EXTERNAL)
        sql = "DELETE FROM charging_profiles WHERE " + " AND ".join(where)
        self._all = None
        with self._transaction():
            cur = self._conn.execute(sql, args)
        return int(cur.rowcount)

    def remove_transaction(self, transaction_id: str, evse_id: int | None = None) -> int:
        """Drop the TxProfiles of an ended transaction (K02.FR.05); return how many.

        With ``evse_id`` the TxProfiles on that EVSE that carry no transactionId go too.
        """
        self._all = None
        with self._transaction():
            cur = self._conn.execute(
                "DELETE FROM charging_profiles WHERE station = ? AND purpose = ? AND"
                " (transaction_id = ? OR (transaction_id IS NULL AND evse_id = ?))",
                (self._station, TX_PROFILE, transaction_id, -1 if evse_id is None else evse_id),
            )
        return int(cur.rowcount)

    # -- queries -----------------------------------------------------------------------------

    def find(
        self,
        *,
        evse_id: int | None = None,
        purposes: Sequence[str] | None = None,
        stack_level: int | None = None,
        ids: Sequence[int] | None = None,
        sources: Sequence[str] | None = None,
    ) -> list[StoredProfile]:
        """Profiles matching every given criterion (GetChargingProfiles, K09), ordered by id.

        ``evse_id`` 0 gives only the profiles installed on the station itself (K09.FR.05), a
        positive one those of that EVSE (K09.FR.04), ``None`` all (K09.FR.06).  ``purposes``,
        ``ids`` and ``sources`` (chargingLimitSource) match any of their values.
        """
        where: list[str] = ["station = ?"]
        args: list[Any] = [self._station]
        if evse_id is not None:
            where.append("evse_id = ?")
            args.append(evse_id)
        if stack_level is not None:
            where.append("stack_level = ?")
            args.append(stack_level)
        filters: tuple[tuple[str, Sequence[Any] | None], ...] = (
            ("purpose", purposes),
            ("id", ids),
            ("source", sources),
        )
        for column, values in filters:
            if values is not None:
                wanted = list(values)
                if not wanted:
                    return []
                where.append(f"{column} IN ({','.join('?' * len(wanted))})")
                args.extend(wanted)
        sql = "SELECT evse_id, profile, source FROM charging_profiles WHERE " + " AND ".join(where)
        rows = self._conn.execute(sql + " ORDER BY id", args).fetchall()
        return [StoredProfile(int(e), json.loads(p), str(s)) for e, p, s in rows]

    def get(self, profile_id: int) -> StoredProfile | None:
        found = self.find(ids=[profile_id])
        return found[0] if found else None

    def all(self) -> list[StoredProfile]:
        """Every profile, ordered by id (from memory after the first read)."""
        return list(self._kept())

    def preload(self, *, empty: bool = False) -> None:
        """Read every profile now and keep them (the thread that opens the store); ``empty``:
        the table is known to be empty (a store just made: nothing is read)."""
        if empty:
            self._all = []
        else:
            self._kept()

    def count(self) -> int:
        """Installed profiles, for SmartChargingCtrlr.EntriesChargingProfiles."""
        return len(self._kept())

    def _kept(self) -> list[StoredProfile]:
        if self._all is None:
            self._all = self.find()
        return self._all

    def close(self) -> None:
        if self._owned:
            self._conn.close()
