"""Opening a station's device model, and the OCPP requests it answers.

:meth:`DeviceModel.open` merges the shared definitions, the stored rows and the seed values into
the values of one station; the reads and writes are those of :class:`StationValues`; GetVariables,
SetVariables and the reports are answered by :mod:`device_model.ocpp_io` and
:mod:`device_model.report`.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from device_model import ocpp_io
from device_model.addressing import EvseLayout, Key, RowKey, check_evses, instances, label, row_key
from device_model.bases import Bases
from device_model.clock import Clock
from device_model.definitions_loader import DefinitionError, Definitions, load_definitions
from device_model.report import build_report
from device_model.seed import parse_seed
from device_model.station_values import StationValues
from device_model.store import Rows, Store
from device_model.values import InvalidValue, check_value

log = logging.getLogger(__name__)


class DeviceModelConfigError(Exception):
    """The station config does not fit the device model; ``errors`` lists every problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__(
            f"{len(errors)} problem(s) in the device-model configuration:\n"
            + "\n".join(f"  - {e}" for e in errors)
        )


@dataclass(frozen=True)
class Plan:
    """A station's checked device-model config (:meth:`DeviceModel.plan`): the definitions, the
    EVSE layout, the seed values by key, and the values and rows of a new database."""

    definitions: Definitions
    evses: EvseLayout
    seeded: dict[Key, str]
    values: dict[Key, str]
    rows: Rows


class DeviceModel(StationValues):
    """Components, variables and attribute values of one station (see ``device_model``)."""

    @classmethod
    def open(
        cls,
        database: str | os.PathLike[str] | sqlite3.Connection,
        evses: Mapping[int, Sequence[int]],
        seed: Mapping[str, object] | None = None,
        *,
        definitions: Definitions | str | os.PathLike[str] | None = None,
        clock: Clock | None = None,
    ) -> DeviceModel:
        """Open (or create) the device model stored in ``database``.

        ``database``: the path of a SQLite file of its own (opened and closed here, WAL,
        ``synchronous=FULL``), or an open ``sqlite3.Connection`` that another owner opened with
        ``isolation_level=None`` and keeps open: the device model then keeps its table in it,
        sets no PRAGMA and does not close it.

        ``seed`` values apply to a persistent attribute only when it has no stored value yet (new
        database, new variable, or never set); constant and non-persistent attributes take the
        seed (else their default) at every open.  All config problems raise one
        :class:`DeviceModelConfigError`, before anything is written.  ``definitions``: a directory
        or a loaded :class:`Definitions` (default: the packaged ones).  ``clock``: any object
        with ``time()`` (UTC epoch seconds); when given, ``ClockCtrlr.DateTime`` reads it."""
        return cls.open_plan(database, cls.plan(evses, seed, definitions=definitions), clock=clock)

    @staticmethod
    def plan(
        evses: Mapping[int, Sequence[int]],
        seed: Mapping[str, object] | None = None,
        *,
        definitions: Definitions | str | os.PathLike[str] | None = None,
    ) -> Plan:
        """Check the config (raising :class:`DeviceModelConfigError` as :meth:`open` does) and
        work out what a new database of this station holds (:attr:`Plan.rows`), without any
        I/O: the owner of a station store can then create it as a copy of an image holding
        those rows (:func:`device_model.store.fill_image`) before :meth:`open_plan`."""
        try:
            defs = (
                definitions
                if isinstance(definitions, Definitions)
                else load_definitions(definitions)
            )
        except DefinitionError as exc:
            raise DeviceModelConfigError(exc.errors) from exc
        checked, errors = check_evses(evses)
        seeded, seed_errors = parse_seed(defs, checked, seed or {})
        errors += seed_errors
        if errors:
            raise DeviceModelConfigError(errors)
        values, rows = _fresh(defs, checked, seeded)
        return Plan(defs, checked, seeded, values, rows)

    @classmethod
    def open_plan(
        cls,
        database: str | os.PathLike[str] | sqlite3.Connection,
        plan: Plan,
        *,
        clock: Clock | None = None,
        image: Mapping[RowKey, str | None] | None = None,
        station: str = "",
        new: bool = False,
        bases: Bases | None = None,
    ) -> DeviceModel:
        """:meth:`open` with the config checked already (:meth:`plan`).  ``image``: the rows of
        the image that the borrowed connection's new database is a copy of; ``station``: the
        key of this station's rows in it; ``new``: it holds none of them yet; ``bases``: the
        rows the owner's new stations share (:meth:`device_model.store.Store.borrow`)."""
        if isinstance(database, sqlite3.Connection):
            store = Store.borrow(database, image=image, station=station, new=new, bases=bases)
        else:
            store = Store.open(database)
        try:
            stored = store.load()
            to_write: Rows
            if stored:
                values, to_write = _merge(plan.definitions, plan.evses, stored, plan.seeded)
            else:  # a new database: what the plan worked out (its values are the station's)
                values, to_write = dict(plan.values), plan.rows
            store.write(to_write)
        except BaseException:
            store.close()
            raise
        return cls(plan.definitions, plan.evses, store, values, clock)

    # ------------------------------------------------------------------ OCPP
    def get_variables(self, data: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """GetVariableDataType dicts → GetVariableResultType dicts, same order (B06)."""
        return ocpp_io.get_variables(self, data)

    def set_variables(
        self, data: list[dict[str, Any]], source: str = "csms"
    ) -> list[dict[str, Any]]:
        """SetVariableDataType dicts → SetVariableResultType dicts, same order (B05)."""
        return ocpp_io.set_variables(self, data, source)

    def report(
        self,
        *,
        base: str | None = None,
        criteria: Sequence[str] | None = None,
        component_variables: Sequence[dict[str, Any]] | None = None,
    ) -> list[dict[str, Any]]:
        """ReportDataType dicts: ``base`` for GetBaseReport (ConfigurationInventory,
        FullInventory, SummaryInventory), else the GetReport filters (B08)."""
        return build_report(
            self, base=base, criteria=criteria, component_variables=component_variables
        )


# Distinct seeds of persistent values whose rows a layout keeps (see _Layout.rows)
_SHARED_ROWS = 16

# One key tuple per (slot, evse, connector) for the whole process: a fleet of thousands of stations
# with the same layout shares them instead of holding a copy each (about 9 KB per station).
_KEYS: dict[Key, Key] = {}


@dataclass(frozen=True)
class _Layout:
    """A new database of one EVSE layout before its seed: the (interned) key of every slot
    instance, the non-None defaults, and the persistent slots with their row keys."""

    keys: dict[Key, Key]
    defaults: dict[Key, str]
    persistent: tuple[tuple[Key, RowKey, str | None], ...]
    # The position of each persistent key, and the rows of a new database by the seed values
    # of persistent keys (a fleet of one template: one rows object that all its stations share,
    # which the store's image recognises without comparing rows).
    position: dict[Key, int] = field(default_factory=dict)
    rows: dict[tuple[tuple[int, str], ...], Rows] = field(default_factory=dict)


def _fresh(
    defs: Definitions, evses: EvseLayout, seeded: dict[Key, str]
) -> tuple[dict[Key, str], Rows]:
    """What :func:`_merge` gives for a database with no stored row, from the layout's facts
    worked out once per layout (a fleet opens thousands of new databases of one layout)."""
    shape = tuple(sorted(evses.items()))
    layout = defs.fresh.get(shape)
    if layout is None:  # (tests check it against _merge)
        keys: dict[Key, Key] = {}
        defaults: dict[Key, str] = {}
        persistent: list[tuple[Key, RowKey, str | None]] = []
        for var, attr in defs.slots:
            for evse, connector in instances(var.scope, evses):
                key = (attr.slot, evse, connector)
                key = keys[key] = _KEYS.setdefault(key, key)
                if attr.default is not None:
                    defaults[key] = attr.default
                if attr.persistent and not attr.constant:
                    rk = row_key(var, attr.type, evse, connector)
                    persistent.append((key, rk, attr.default))
        position = {key: i for i, (key, _rk, _default) in enumerate(persistent)}
        layout = defs.fresh[shape] = _Layout(keys, defaults, tuple(persistent), position)
    values = dict(layout.defaults)
    seeds: list[tuple[int, str]] = []  # the seed values that rows hold
    for key, value in seeded.items():
        interned = layout.keys.get(key)
        if interned is not None:
            values[interned] = value
            if (i := layout.position.get(interned)) is not None:
                seeds.append((i, value))
    known = tuple(sorted(seeds))
    rows = layout.rows.get(known)
    if rows is None:
        rows = tuple((rk, seeded.get(key, default)) for key, rk, default in layout.persistent)
        if len(layout.rows) < _SHARED_ROWS:  # (stations whose seeds all differ share none)
            layout.rows[known] = rows
    return values, rows


def _merge(
    defs: Definitions,
    evses: EvseLayout,
    stored: dict[RowKey, str | None],
    seeded: dict[Key, str],
) -> tuple[dict[Key, str], list[tuple[RowKey, str | None]]]:
    """Combine definitions, stored rows and seed values into the in-memory values and the rows
    to insert.  Stored rows of removed definitions (or removed EVSEs) are ignored and left in the
    database, so going back to an older release finds them again."""
    values: dict[Key, str] = {}
    to_write: list[tuple[RowKey, str | None]] = []
    for var, attr in defs.slots:
        for evse, connector in instances(var.scope, evses):
            key = (attr.slot, evse, connector)
            key = _KEYS.setdefault(key, key)
            fresh = seeded.get(key, attr.default)
            value: str | None = fresh
            if attr.persistent and not attr.constant:
                rk = row_key(var, attr.type, evse, connector)
                old = stored.get(rk)
                if old is not None:
                    try:
                        value = check_value(var, old)
                    except InvalidValue as exc:
                        log.warning(
                            "%s: stored value %r no longer valid (%s); using %r",
                            label(var, evse, connector),
                            old,
                            exc.message,
                            fresh,
                        )
                        to_write.append((rk, fresh))
                elif rk not in stored or fresh is not None:
                    to_write.append((rk, fresh))
            if value is not None:
                values[key] = value
    return values, to_write
