"""A device-model table copied from an image (``fill_image``, ``Store.borrow(image=...)``).

An image holds the rows another station of the same layout wrote.  In the copy those rows are
not stored values: the station's first write makes them its own, in one transaction, and a copy
that never had that write (a power cut right after the copy) is still treated as an image.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from device_model import DeviceModel, Plan
from device_model.model import _merge
from device_model.store import IMAGE_VERSION, SCHEMA_VERSION, ImageRows, Store, fill_image

EVSES = {1: [1], 2: [1]}


def connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def image_of(tmp_path: Path, seed: dict[str, object]) -> tuple[Path, Plan]:
    plan = DeviceModel.plan(EVSES, seed)
    path = tmp_path / "image.db"
    conn = connect(path)
    fill_image(conn, plan.rows)
    conn.close()
    return path, plan


def rows(path: Path) -> dict[tuple[object, ...], str | None]:
    with connect(path) as conn:
        found = conn.execute("SELECT * FROM attribute_value WHERE station = ''")
        return {tuple(r[1:8]): r[8] for r in found}


def version(path: Path) -> int:
    with connect(path) as conn:
        return int(conn.execute("SELECT version FROM device_model_schema").fetchone()[0])


def test_an_image_holds_the_rows_and_the_image_version(tmp_path: Path) -> None:
    path, plan = image_of(tmp_path, {"OCPPCommCtrlr.HeartbeatInterval": 300})
    assert rows(path) == dict(plan.rows)
    assert version(path) == IMAGE_VERSION


def test_the_first_write_makes_the_copy_the_stations_own(tmp_path: Path) -> None:
    image, first = image_of(tmp_path, {"OCPPCommCtrlr.HeartbeatInterval": 300})
    copy = tmp_path / "station.db"
    shutil.copy(image, copy)
    own = DeviceModel.plan(EVSES, {"OCPPCommCtrlr.HeartbeatInterval": 60})
    conn = connect(copy)
    dm = DeviceModel.open_plan(conn, own, image=dict(first.rows))
    assert dm.get("OCPPCommCtrlr", "HeartbeatInterval") == "60"
    conn.close()
    assert rows(copy) == dict(own.rows)
    assert version(copy) == SCHEMA_VERSION
    # and later writes are ordinary ones
    conn = connect(copy)
    dm = DeviceModel.open(conn, EVSES, {"OCPPCommCtrlr.HeartbeatInterval": 90})
    assert dm.get("OCPPCommCtrlr", "HeartbeatInterval") == "60"  # stored: the seed is not
    assert dm.set("OCPPCommCtrlr", "HeartbeatInterval", 45) == "Accepted"
    conn.close()
    assert rows(copy)[("OCPPCommCtrlr", "", 0, 0, "HeartbeatInterval", "", "Actual")] == "45"
    assert len(rows(copy)) == len(own.rows)


def test_rows_the_station_does_not_have_are_deleted(tmp_path: Path) -> None:
    image, first = image_of(tmp_path, {})
    copy = tmp_path / "station.db"
    shutil.copy(image, copy)
    extra = ("Vendor", "", 0, 0, "Gone", "", "Actual")
    with connect(copy) as conn:
        conn.execute(
            "INSERT INTO attribute_value VALUES ('', ?, ?, ?, ?, ?, ?, ?, ?)", (*extra, "x")
        )
    store = Store.borrow(connect(copy), image={**dict(first.rows), extra: "x"})
    assert store.load() == {}
    store.write(first.rows)
    assert rows(copy) == dict(first.rows)
    assert version(copy) == SCHEMA_VERSION


def test_a_copy_never_written_to_is_still_an_image(tmp_path: Path) -> None:
    image, _first = image_of(tmp_path, {"OCPPCommCtrlr.HeartbeatInterval": 300})
    copy = tmp_path / "station.db"
    shutil.copy(image, copy)  # ... and the power went
    conn = connect(copy)
    dm = DeviceModel.open(conn, EVSES, {"OCPPCommCtrlr.HeartbeatInterval": 60})
    assert dm.get("OCPPCommCtrlr", "HeartbeatInterval") == "60"  # not the image's 300
    conn.close()
    assert version(copy) == SCHEMA_VERSION
    assert rows(copy) == dict(DeviceModel.plan(EVSES, {"OCPPCommCtrlr.HeartbeatInterval": 60}).rows)


@pytest.mark.parametrize("evses", [{1: [1]}, {1: [1], 2: [1]}, {1: [1, 2], 2: [1], 3: [2]}])
@pytest.mark.parametrize(
    "seed",
    [
        {},
        {
            "SecurityCtrlr.Identity": "CS-7",
            "OCPPCommCtrlr.HeartbeatInterval": 42,
            "ChargingStation.SerialNumber": "SN-7",
        },
    ],
)
def test_a_plan_is_the_merge_of_a_database_with_no_row(
    evses: dict[int, list[int]], seed: dict[str, object]
) -> None:
    """The plan's shortcut (the layout's facts worked out once) gives what the full merge of
    the definitions, no stored row and the seed gives."""
    plan = DeviceModel.plan(evses, seed)
    values, rows = _merge(plan.definitions, plan.evses, {}, plan.seeded)
    assert plan.values == values
    assert list(plan.rows) == rows
    again = DeviceModel.plan(evses, seed)  # from the layout's kept facts
    assert (again.values, list(again.rows)) == (values, rows)


def test_plans_with_the_same_stored_seeds_share_one_rows_tuple() -> None:
    """A fleet of one template: its stations' plans share the rows of a new database (a seed
    that is not stored, like the identity, does not matter); other stored seeds, other rows."""
    one = DeviceModel.plan(EVSES, {"SecurityCtrlr.Identity": "CS-1"})
    two = DeviceModel.plan(EVSES, {"SecurityCtrlr.Identity": "CS-2"})
    assert one.rows is two.rows
    other = DeviceModel.plan(EVSES, {"OCPPCommCtrlr.HeartbeatInterval": 42})
    assert other.rows is not one.rows
    key = ("OCPPCommCtrlr", "", 0, 0, "HeartbeatInterval", "", "Actual")
    assert dict(other.rows)[key] == "42" != dict(one.rows)[key]


def test_the_rows_an_image_was_made_from_change_nothing_without_a_comparison(
    tmp_path: Path,
) -> None:
    """The first write of the very rows tuple the image was made from sets the version alone,
    without looking a row up; equal rows in another object are compared (and change nothing
    either); a list is never taken on trust (it may have changed since)."""

    class Counting(ImageRows):
        lookups = 0

        def get(self, *args: object) -> object:  # type: ignore[override]
            Counting.lookups += 1
            return super().get(*args)  # type: ignore[call-overload]

    image, plan = image_of(tmp_path, {})
    assert ImageRows(list(plan.rows)).source is None
    for written, lookups in ((plan.rows, 0), (tuple(list(plan.rows)), len(plan.rows))):
        copy = tmp_path / f"station-{lookups}.db"
        shutil.copy(image, copy)
        conn = connect(copy)
        statements: list[str] = []
        conn.set_trace_callback(statements.append)
        Counting.lookups = 0
        Store.borrow(conn, image=Counting(plan.rows)).write(written)
        conn.close()
        assert Counting.lookups == lookups
        assert version(copy) == SCHEMA_VERSION
        assert rows(copy) == dict(plan.rows)
        assert [s for s in statements if "attribute_value" in s] == []
